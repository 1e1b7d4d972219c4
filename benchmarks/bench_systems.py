"""Benchmark each system's hottest read and write operation over real HTTP (and in-process for comparison).

    .venv/bin/python benchmarks/bench_systems.py                  # 5 s per operation, 4 client threads
    .venv/bin/python benchmarks/bench_systems.py --seconds 10 --clients 8

The four systems are served as `firmsim serve` does (waitress, 32 threads each, one process); a few won deals
are set up by the built-in engine first (then stopped, so it does not compete). Hottest = the read and
the write the firm and the engine make most: opportunities and accounts (CRM), projects and time
entries (PSA), workers (HCM), contracts and billable transactions (ERP). Prints requests/s and
latency percentiles; figures, not assertions; results are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from harness.load.engines import EmbeddedEngine
from harness.load.firm import Actors, LoadFirm
from harness.load.measure import CommitLog, Percentiles
from harness.load.run import serve_watched

Request = tuple[str, str, Any]  # method, path, body


def operations(firm: LoadFirm) -> dict[str, tuple[str, Callable[[int], Request]]]:
    """Return, per 'system read|write', the operation id and a function making its n-th request."""
    deal = firm.deals[0]
    opportunity, project, resource = deal.opportunity_id, deal.project_id, deal.resources[0]
    contract = firm.actors.call("psa", "GET", f"/projects/{project}")["erp_contract_id"]
    day = firm.today.isoformat()
    return {
        "crm read": ("getOpportunity", lambda n: ("GET", f"/opportunities/{opportunity}", None)),
        "crm write": ("createAccount", lambda n: ("POST", "/accounts", {
            "name": f"Bench Account {n}", "country": "US", "currency": "USD"})),
        "psa read": ("getProject", lambda n: ("GET", f"/projects/{project}", None)),
        "psa write": ("createTimeEntry", lambda n: ("POST", "/time-entries", {
            "resource_id": resource, "project_id": project, "date": day, "hours": "0.25"})),
        "hcm read": ("getWorker", lambda n: ("GET", "/workers/WRK-000001", None)),
        "hcm write": ("hireWorker", lambda n: ("POST", "/workers", {
            "first_name": "Bench", "last_name": f"Worker{n}", "email": f"bench.{n}@firmsim.example",
            "hire_date": day, "legal_entity": "US01", "practice": "TECHNOLOGY", "role": "CONSULTANT",
            "worker_type": "EMPLOYEE"})),
        "erp read": ("getContract", lambda n: ("GET", f"/contracts/{contract}", None)),
        "erp write": ("createBillableTransaction", lambda n: ("POST", "/billable-transactions", {
            "contract_id": contract, "kind": "TIME", "date": day, "quantity": "1.0", "rate": "150.00",
            "amount": "150.00", "currency": "USD", "role": "CONSULTANT", "worker_id": resource,
            "description": "bench", "source_system": "psa", "source_id": f"TE-{900000 + n}", "source_version": 1,
            "external_id": f"psa:TE-{900000 + n}:v1"})),
    }


def hammer(base_url: str, token: str, make: Callable[[int], Request], seconds: float,
           clients: int) -> tuple[float, dict[str, Any], int]:
    """Send requests from `clients` threads for `seconds`; return requests/s, latency summary, failures."""
    counter = itertools.count()
    latency = Percentiles()
    failures = [0]
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            while time.perf_counter() < stop_at:
                with lock:
                    number = next(counter)
                method, path, body = make(number)
                headers = {"Idempotency-Key": f"bench-{number}"} if method == "POST" else {}
                started = time.perf_counter()
                response = http.request(method, path, json=body, headers=headers)
                latency.record(time.perf_counter() - started)
                if not 200 <= response.status_code < 300:
                    with lock:
                        failures[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latency.count / (time.perf_counter() - started), latency.summary(), failures[0]


def main() -> None:
    """Serve the systems, set up a firm, hammer each hot operation, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    log, token = CommitLog(), "fs_bench_systems"
    servers = serve_watched(log, token)
    urls = {system.kind: system.base_url for system in servers.systems}
    actors = Actors(urls, token)
    with tempfile.TemporaryDirectory() as directory:
        engine = EmbeddedEngine(urls, token, workers=2, ledger_path=Path(directory) / "ledger.db")
        engine.start()
        try:
            firm = LoadFirm(actors, seed=1)
            firm.set_up(1, 1, engine.check_alive)
            engine.wait_idle(quiet_s=1.0, timeout_s=60)
        finally:
            engine.stop()
        actors.call("hcm", "POST", "/workers", operations(firm)["hcm write"][1](-1)[2])
        print(f"# bench_systems: {args.clients} HTTP clients, {args.seconds:g} s per operation, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
        print(f"{'operation':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>6}")
        for label, (operation_id, make) in operations(firm).items():
            system = label.split()[0]
            rate, summary, failed = hammer(urls[system], token, make, args.seconds, args.clients)
            print(f"{label + ' ' + operation_id:<42} {rate:>8.0f} {summary['p50'] * 1000:>8.1f} "
                  f"{summary['p99'] * 1000:>8.1f} {summary['max'] * 1000:>8.1f} {failed:>6}")
        print(f"# load average {os.getloadavg()[0]:.2f} at end")
    actors.close()
    servers.stop()


if __name__ == "__main__":
    main()

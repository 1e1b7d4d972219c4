"""Benchmark the WSGI server a system is served with: waitress (a fixed thread pool, what `firmsim serve`,
live mode and `firmsim load` use, simulators/server.py) against werkzeug's threaded dev server (a thread
per request, what they used before), requests/s and server CPU per request.

    .venv/bin/python benchmarks/bench_wsgi.py                          # 5 s per operation, 8 client threads
    .venv/bin/python benchmarks/bench_wsgi.py --seconds 10 --servers werkzeug,waitress:8,waitress:32
    .venv/bin/python benchmarks/bench_wsgi.py --latency 1000 --slow-clients 16 --servers werkzeug,waitress:8,waitress:32

With `--latency MS` it measures starvation instead: a latency fault of MS on upsertResource, which
sleeps in the thread serving the request, `--slow-clients` threads writing through it and 2 threads
reading (getResource, not slowed): with a pool no bigger than the slow writers the reads queue behind them.

The PSA app is served in a process of its own (threads only: a system keeps its state in-process,
so several serving processes would each hold a different PSA); the clients run in this process.
Operations: `getResource` (a read) and `upsertResource` (a write, a new resource each). Server CPU
comes from /proc, so the figure to compare on a shared machine is CPU ms per request.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

TOKEN = "fs_bench_wsgi"
RESOURCE = {"name": "Bench Consultant", "role": "CONSULTANT", "legal_entity": "US01", "worker_type": "EMPLOYEE",
            "active": True, "source_version": 1}


def serve(server: str, port: int) -> None:
    """Serve the PSA app on `port` with `werkzeug` or `waitress:<threads>` until killed."""
    from simulators.registry import create_system_app

    app = create_system_app("psa", {"LOST_RESPONSE_MODE": "drop", "SLEEP_LATENCY": True, "API_TOKENS": [TOKEN]})
    if server == "werkzeug":
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        make_server("127.0.0.1", port, app, threaded=True).serve_forever()
    else:
        import waitress

        logging.getLogger("waitress").setLevel(logging.ERROR)  # "Task queue depth is N" on every burst
        waitress.serve(app, host="127.0.0.1", port=port, threads=int(server.split(":")[1]), connection_limit=256)


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hammer(base: str, seconds: float, clients: int, request: Callable[[httpx.Client, int], httpx.Response]) -> int:
    """Run `request` from `clients` threads for `seconds`; return how many answered 2xx."""
    done, numbers, lock = [0], itertools.count(), threading.Lock()
    stop = time.monotonic() + seconds

    def run() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            while time.monotonic() < stop:
                with lock:
                    number = next(numbers)
                response = request(client, number)
                if not 200 <= response.status_code < 300:
                    raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
                with lock:
                    done[0] += 1

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0]


def measure(server: str, port: int, seconds: float, clients: int) -> dict[str, Any]:
    """Start a server process, measure each operation, stop it."""
    with _served(server, port) as (process, base):
        operations: dict[str, Callable[[httpx.Client, int], httpx.Response]] = {
            "read getResource": lambda client, n: client.get("/resources/WRK-900001"),
            "write upsertResource": lambda client, n: client.put(f"/resources/WRK-{910000 + n}", json=RESOURCE),
        }
        result: dict[str, Any] = {"server": server, "load_before": round(os.getloadavg()[0], 1)}
        for name, request in operations.items():
            cpu_before, started = cpu_seconds(process.pid), time.monotonic()
            count = hammer(base, seconds, clients, request)
            elapsed, cpu = time.monotonic() - started, cpu_seconds(process.pid) - cpu_before
            result[name] = {"requests_per_s": round(count / elapsed), "server_cpu_ms_per_request":
                            round(1000 * cpu / max(count, 1), 3)}
        result["load_after"] = round(os.getloadavg()[0], 1)
        return result


def starvation(server: str, port: int, seconds: float, latency_ms: int, slow_clients: int) -> dict[str, Any]:
    """Start a server process with a latency fault on writes; time reads while slow writes hold threads."""
    with _served(server, port) as (_process, base):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        httpx.post(f"{base}/admin/faults", json={"kind": "latency", "params": {"operations": ["upsertResource"],
                                                                                "ms": latency_ms}},
                   timeout=10).raise_for_status()
        reads: list[float] = []
        writes = [0]
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def writer(number: int) -> None:
            with httpx.Client(base_url=base, headers=auth, timeout=120) as client:
                for index in itertools.count():
                    if time.monotonic() >= stop:
                        return
                    client.put(f"/resources/WRK-{920000 + number * 1000 + index}", json=RESOURCE).raise_for_status()
                    with lock:
                        writes[0] += 1

        def reader() -> None:
            with httpx.Client(base_url=base, headers=auth, timeout=120) as client:
                time.sleep(min(0.5, seconds / 4))  # let the slow writes take their threads first
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    client.get("/resources/WRK-900001").raise_for_status()
                    with lock:
                        reads.append(time.perf_counter() - started)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(slow_clients)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        load_before = os.getloadavg()[0]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reads.sort()
        return {"server": server, "reads": len(reads), "read_p50_ms": round(1000 * reads[len(reads) // 2], 1),
                "read_p99_ms": round(1000 * reads[min(len(reads) - 1, int(len(reads) * 0.99))], 1),
                "read_max_ms": round(1000 * reads[-1], 1), "slow_writes": writes[0],
                "load": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"}


@contextmanager
def _served(server: str, port: int) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Serve the PSA in its own process with one resource to read; yield the process and its URL, then stop it."""
    process = subprocess.Popen([sys.executable, __file__, "--serve", server, str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base)
        httpx.put(f"{base}/resources/WRK-900001", json=RESOURCE, headers={"Authorization": f"Bearer {TOKEN}"},
                  timeout=10).raise_for_status()
        yield process, base
    finally:
        process.terminate()
        process.wait(10)


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/openapi.json", timeout=2)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    """Measure each server and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--servers", default="werkzeug,waitress:8,werkzeug,waitress:8",
                        help="werkzeug and/or waitress:<threads>, measured in turn")
    parser.add_argument("--latency", type=int, default=None, metavar="MS",
                        help="Measure starvation: reads while --slow-clients writes each sleep MS in the server.")
    parser.add_argument("--slow-clients", type=int, default=16)
    parser.add_argument("--serve", nargs=2, metavar=("SERVER", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.latency is not None:
        print(f"# bench_wsgi starvation: PSA app, latency fault {args.latency} ms on upsertResource, "
              f"{args.slow_clients} slow writers + 2 readers, {args.seconds:g} s, {os.cpu_count()} CPUs")
        print("| server | reads | read p50 ms | read p99 ms | read max ms | slow writes | load avg |")
        print("|---|---|---|---|---|---|---|")
        for index, server in enumerate(args.servers.split(",")):
            row = starvation(server, 29700 + index, args.seconds, args.latency, args.slow_clients)
            print(f"| {server} | {row['reads']} | {row['read_p50_ms']} | {row['read_p99_ms']} | "
                  f"{row['read_max_ms']} | {row['slow_writes']} | {row['load']} |", flush=True)
        return
    print(f"# bench_wsgi: PSA app, {args.clients} client threads, {args.seconds:g} s per operation, "
          f"{os.cpu_count()} CPUs")
    print("| server | read req/s | read server CPU ms/req | write req/s | write server CPU ms/req | load avg |")
    print("|---|---|---|---|---|---|")
    for index, server in enumerate(args.servers.split(",")):
        result = measure(server, 29700 + index, args.seconds, args.clients)
        read, write = result["read getResource"], result["write upsertResource"]
        print(f"| {server} | {read['requests_per_s']} | {read['server_cpu_ms_per_request']} | "
              f"{write['requests_per_s']} | {write['server_cpu_ms_per_request']} | "
              f"{result['load_before']}-{result['load_after']} |", flush=True)


if __name__ == "__main__":
    main()

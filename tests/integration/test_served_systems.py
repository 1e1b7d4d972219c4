"""The systems on real sockets (simulators/server.py, waitress): lost responses drop the connection, a
latency fault does not hold up other requests, and stopping frees the ports and threads."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from simulators.common.app import context_of
from simulators.server import STOP_TIMEOUT_S, SYSTEM_THREADS, SystemServers, serve_systems
from tests.integration.live_firm import ACTOR_TOKEN

AUTH = {"Authorization": f"Bearer {ACTOR_TOKEN}"}
RESOURCE = {"name": "Ada Consultant", "role": "CONSULTANT", "legal_entity": "US01", "worker_type": "EMPLOYEE",
            "active": True, "source_version": 1}


@pytest.fixture
def psa() -> Iterator[SystemServers]:
    """The PSA alone on a free port."""
    servers = serve_systems("127.0.0.1", None, ["psa"], {"API_TOKENS": [ACTOR_TOKEN]})
    try:
        yield servers
    finally:
        servers.stop()


def _url(servers: SystemServers) -> str:
    return servers.systems[0].base_url


def test_a_lost_response_drops_the_connection_after_the_write_committed(psa: SystemServers) -> None:
    url = _url(psa)
    httpx.post(f"{url}/admin/faults", json={"kind": "lost_response", "params": {"operations": ["upsertResource"]}})

    with pytest.raises(httpx.TransportError):
        httpx.put(f"{url}/resources/WRK-000001", json=RESOURCE, headers=AUTH, timeout=10)

    assert httpx.get(f"{url}/resources/WRK-000001", headers=AUTH).json()["name"] == "Ada Consultant"


def test_a_latency_fault_on_writes_does_not_hold_up_reads(psa: SystemServers) -> None:
    url = _url(psa)
    httpx.put(f"{url}/resources/WRK-000002", json=RESOURCE, headers=AUTH).raise_for_status()
    httpx.post(f"{url}/admin/faults", json={"kind": "latency",
                                            "params": {"operations": ["upsertResource"], "ms": 4000}})
    slow_writers = SYSTEM_THREADS // 2  # more than a live run puts on one system at once
    done = threading.Barrier(slow_writers + 1)

    def write(number: int) -> None:
        with contextlib.suppress(httpx.HTTPError, threading.BrokenBarrierError):  # the test's asserts say why
            httpx.put(f"{url}/resources/WRK-1{number:05d}", json=RESOURCE, headers=AUTH, timeout=60)
            done.wait(timeout=60)

    writers = [threading.Thread(target=write, args=(number,), daemon=True) for number in range(slow_writers)]
    for writer in writers:
        writer.start()
    faults = context_of(psa.systems[0].app).faults
    deadline = time.monotonic() + 30
    while faults.injected.get("latency", 0) < slow_writers and time.monotonic() < deadline:
        time.sleep(0.05)  # until every write is in, sleeping in a server thread
    assert faults.injected.get("latency", 0) == slow_writers
    started = time.monotonic()
    read = httpx.get(f"{url}/resources/WRK-000002", headers=AUTH, timeout=60)
    waited = time.monotonic() - started
    done.wait(timeout=60)

    assert read.status_code == 200
    assert waited < 2.0, f"a read waited {waited:.1f} s behind {slow_writers} writes slowed by 4 s"


def test_stopping_frees_the_port_and_the_server_threads() -> None:
    servers = serve_systems("127.0.0.1", None, ["crm"], {"API_TOKENS": [ACTOR_TOKEN]})
    port = servers.systems[0].server.port
    httpx.get(f"{servers.systems[0].base_url}/openapi.json").raise_for_status()

    servers.stop()

    assert not [thread for thread in threading.enumerate() if thread.name.startswith(("waitress", "serve-crm"))]
    again = serve_systems("127.0.0.1", port - 1, ["crm"], {"API_TOKENS": [ACTOR_TOKEN]})  # crm is base + 1
    try:
        assert httpx.get(f"{again.systems[0].base_url}/openapi.json").status_code == 200
    finally:
        again.stop()


def test_stopping_waits_for_requests_still_running_once_for_all_systems_not_once_each() -> None:
    servers = serve_systems("127.0.0.1", None, ["crm", "psa", "hcm"], {"API_TOKENS": [ACTOR_TOKEN]})
    for system in servers.systems:
        httpx.post(f"{system.base_url}/admin/faults", json={"kind": "latency", "params": {"ms": 30000}})

    def read(url: str) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server goes away mid-request
            httpx.get(f"{url}/events", headers=AUTH, timeout=60)

    for system in servers.systems:
        threading.Thread(target=read, args=(system.base_url,), daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(context_of(system.app).faults.injected.get("latency")
                                                  for system in servers.systems):
        time.sleep(0.05)
    started = time.monotonic()

    servers.stop()

    assert time.monotonic() - started < STOP_TIMEOUT_S + 2.5, "three systems each waited out their own request"



def test_a_request_finishing_after_the_servers_stopped_wakes_nothing_and_raises_nothing(psa: SystemServers) -> None:
    # A request that finishes after stop() closed the server loop wakes the loop through its wake-up pipe,
    # which stop() closed with it: that OSError (EBADF) ended in waitress's "Exception when servicing"
    # traceback on the terminal at the end of `firmsim load`. The same call, once the servers stopped:
    server = psa.systems[0].server
    psa.stop()

    server._server.pull_trigger()  # raised OSError: [Errno 9] Bad file descriptor

"""`firmsim serve` on real sockets: four specs served, the business API reachable with the token."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.registry import PORT_OFFSETS, SYSTEM_KINDS
from tests.integration.live_firm import free_port_base

TOKEN = "integration-token"


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"firmsim serve exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    base = free_port_base(23100)
    firmsim = Path(sys.executable).with_name("firmsim")
    process = subprocess.Popen(
        [str(firmsim), "serve", "--port-base", str(base), "--token", TOKEN, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    urls = {kind: f"http://127.0.0.1:{base + PORT_OFFSETS[kind]}" for kind in SYSTEM_KINDS}
    try:
        for url in urls.values():
            _wait_until_up(f"{url}/openapi.json", process)
        yield urls
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output
        assert "stopped." in output


@pytest.mark.parametrize("kind", SYSTEM_KINDS)
def test_serve_publishes_each_spec_and_guards_the_business_api(served: dict[str, str], kind: str) -> None:
    url = served[kind]
    spec = httpx.get(f"{url}/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/events" in spec["paths"]
    refused = httpx.get(f"{url}/events")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    events = httpx.get(f"{url}/events", headers={"Authorization": f"Bearer {TOKEN}"})
    assert events.status_code == 200
    assert events.json()["items"] == [] or events.json()["items"][0]["sequence"] == 1


def test_serve_refuses_a_port_range_in_use() -> None:
    base = free_port_base(23100)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + PORT_OFFSETS["erp"]))
        taken.listen()
        firmsim = Path(sys.executable).with_name("firmsim")
        result = subprocess.run([str(firmsim), "serve", "--port-base", str(base)], capture_output=True, text=True,
                                timeout=30, check=False)
    assert result.returncode == 3
    assert f"127.0.0.1:{base + PORT_OFFSETS['erp']}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_logs_each_request_and_stops_on_ctrl_c_without_a_traceback() -> None:
    base = free_port_base(23100)
    firmsim = Path(sys.executable).with_name("firmsim")
    process = subprocess.Popen([str(firmsim), "serve", "--port-base", str(base), "--token", TOKEN, "--systems", "psa"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{base + PORT_OFFSETS['psa']}"
    try:
        _wait_until_up(f"{url}/openapi.json", process)
        httpx.get(f"{url}/events?limit=1", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)

    assert process.returncode == 0, output
    assert f"psa  {url}  spec {url}/openapi.json" in output
    assert 'psa 127.0.0.1 "GET /events?limit=1" 200' in output
    assert output.rstrip().endswith("stopped.")
    assert "Traceback" not in output

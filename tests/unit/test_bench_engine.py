"""bench_engine drives only the systems it started: a port another process answers on is not theirs."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_engine

LISTEN = "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); " \
         "print(s.getsockname()[1], flush=True); time.sleep(30)"


def test_a_port_is_owned_only_by_the_process_listening_on_it() -> None:
    with subprocess.Popen([sys.executable, "-c", LISTEN], stdout=subprocess.PIPE, text=True) as listener:
        try:
            assert listener.stdout is not None
            port = int(listener.stdout.readline())
            assert bench_engine._listens(listener.pid, port)
            with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
                try:
                    assert not bench_engine._listens(other.pid, port)
                finally:
                    other.kill()
        finally:
            listener.kill()


def test_systems_that_failed_to_start_end_the_benchmark_with_their_message(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    log.write_text("firmsim serve: cannot listen on 127.0.0.1:24111 for crm: Address already in use\n")
    with socket.socket() as taken:  # another process's systems answer there
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        url = f"http://127.0.0.1:{taken.getsockname()[1]}"
        with subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]) as serve:
            serve.wait()
            with pytest.raises(RuntimeError, match="Address already in use"):
                bench_engine._wait_up(url, serve, log, timeout_s=5)

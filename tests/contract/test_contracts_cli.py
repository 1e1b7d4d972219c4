"""`firmsim contracts verify` and `firmsim fuzz` from the command line: tables, reports and exit codes."""

from __future__ import annotations

import json
import socket
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.wrappers import Request, Response

from harness.cli import main
from harness.fuzz_runner import REPOSITORY_SETTINGS, settings_file
from harness.local_systems import start_local_systems

TOKEN = "firmsim-cli-token"


def firmsim(*args: str) -> Any:
    """Run the firmsim command line in-process."""
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def closed_port() -> str:
    """A base URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_contracts_verify_starts_the_mocks_and_prints_one_row_per_interaction() -> None:
    pact = json.loads(Path("contracts/pacts/firmsim-syncengine-hcm.json").read_text(encoding="utf-8"))

    result = firmsim("contracts", "verify", "--provider", "hcm")

    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("hcm ")]
    assert sorted(row.split(None, 3)[3] for row in rows) == sorted(i["description"] for i in pact["interactions"])
    assert all(row.split()[2] == "ok" for row in rows)


@pytest.mark.parametrize(("args", "message"), [
    (["--url", "http://127.0.0.1:8102", "--token", "t"], "name it with --provider"),
    (["--provider", "psa", "--url", "http://127.0.0.1:8102"], "--url needs --token"),
    (["--provider", "psa", "--url", "ftp://example", "--token", "t"], "expected an http(s) URL"),
    (["--provider", "nope"], "Invalid value for '--provider'"),
])
def test_contracts_verify_refuses_bad_input_with_exit_2(args: list[str], message: str) -> None:
    result = firmsim("contracts", "verify", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_contracts_verify_of_an_unreachable_url_exits_3(closed_port: str) -> None:
    result = firmsim("contracts", "verify", "--provider", "crm", "--url", closed_port, "--token", TOKEN)
    assert result.exit_code == 3
    assert "cannot be reached" in result.output


def test_fuzz_of_an_unreachable_url_exits_3_and_bad_phases_exit_2(closed_port: str) -> None:
    assert firmsim("fuzz", "--system", "hcm", "--url", closed_port, "--token", TOKEN).exit_code == 3
    assert firmsim("fuzz", "--system", "hcm", "--phases", "examples,guessing").exit_code == 2
    assert firmsim("fuzz", "--url", closed_port, "--token", TOKEN).exit_code == 2
    assert firmsim("fuzz", "--system", "hcm", "--out", "/dev/null/fuzz").exit_code == 2


def _failing_worker_reads(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if Request(environ).path == "/workers" and environ["REQUEST_METHOD"] == "GET":
            return Response("boom", status=500, mimetype="text/plain")(environ, start_response)
        return app(environ, start_response)

    return wsgi


@pytest.mark.slow
def test_fuzz_passes_a_mock_and_fails_a_server_error_with_a_junit_report(tmp_path: Path) -> None:
    passed = firmsim("fuzz", "--system", "hcm", "--max-examples", "2", "--phases", "examples",
                     "--out", str(tmp_path / "ok"))
    with start_local_systems(["hcm"], TOKEN, middleware={"hcm": _failing_worker_reads}) as systems:
        failed = firmsim("fuzz", "--system", "hcm", "--url", systems.url("hcm"), "--token", TOKEN,
                         "--max-examples", "2", "--phases", "examples", "--out", str(tmp_path / "broken"))

    assert passed.exit_code == 0, passed.output
    assert "hcm     ok" in passed.output
    assert failed.exit_code == 1, failed.output
    assert "hcm     FAILED" in failed.output and "GET /workers" in failed.output
    suites = ET.parse(tmp_path / "broken" / "junit.xml").getroot()
    assert suites.get("name") == "firmsim fuzz" and int(suites.get("failures", "0")) >= 1
    assert {suite.get("name") for suite in suites.iter("testsuite")} == {"fuzz.hcm"}


def test_fuzz_uses_the_repository_schemathesis_settings_and_a_packaged_install_the_same_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_file(tmp_path) == REPOSITORY_SETTINGS
    monkeypatch.setattr("harness.fuzz_runner.REPOSITORY_SETTINGS", tmp_path / "absent.toml")
    embedded = settings_file(tmp_path)
    assert tomllib.loads(embedded.read_text(encoding="utf-8")) == \
        tomllib.loads(REPOSITORY_SETTINGS.read_text(encoding="utf-8"))


def _without_admin_api(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if Request(environ).path.startswith("/admin/"):
            return Response("not found", status=404, mimetype="text/plain")(environ, start_response)
        return app(environ, start_response)

    return wsgi


def test_contracts_verify_of_a_sandbox_without_the_admin_api_exits_3_saying_why() -> None:
    with start_local_systems(["hcm"], TOKEN, middleware={"hcm": _without_admin_api}) as systems:
        result = firmsim("contracts", "verify", "--provider", "hcm", "--url", systems.url("hcm"), "--token", TOKEN)

    assert result.exit_code == 3
    assert "provider states are set up through the firmsim admin API" in result.output

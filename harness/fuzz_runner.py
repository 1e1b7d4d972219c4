"""`firmsim fuzz`: schemathesis with every check and the stateful phase against the systems' specs.

Each system is fuzzed from the spec firmsim ships (contracts/openapi/, bundled), against a freshly
started mock on a free port, or against any URL serving the same API. The repository's
schemathesis.toml is used when it is there (so 412 and 422 count as answers to valid data); a packaged
install, which has no repository, uses the same settings embedded here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
from harness.contracts_command import PHASES
from simulators.common.spec import load_spec

REPOSITORY_SETTINGS = Path(harness.__file__).resolve().parent.parent / "schemathesis.toml"
EMBEDDED_SETTINGS = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
"""
FAILURE_LINES = 80


@dataclass
class FuzzResult:
    """One system's schemathesis run."""

    system: str
    base_url: str
    exit_code: int
    seconds: float
    report: dict[str, Any]
    junit: Path
    log: Path

    @property
    def ok(self) -> bool:
        """Tell whether schemathesis found nothing wrong."""
        return self.exit_code == 0

    def summary(self) -> dict[str, Any]:
        """Return the figures of the summary table."""
        operations = self.report.get("operations", {})
        cases = self.report.get("test_cases", {})
        warnings = self.report.get("warnings", {})
        return {
            "tested": f"{operations.get('tested', 0)}/{operations.get('total', 0)}",
            "cases": cases.get("generated", 0),
            "failures": len(self.report.get("failures", [])),
            "errors": len(self.report.get("errors", [])),
            "warnings": sum(len(items) for items in warnings.values() if isinstance(items, list)),
        }

    def failure_text(self) -> str:
        """Return the failures section of schemathesis's output (empty when there is none)."""
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines() if self.log.exists() else []
        start = next((i for i, line in enumerate(lines) if "FAILURES" in line or "ERRORS" in line), None)
        if start is None:
            return "\n".join(lines[-20:])
        end = next((i for i in range(start + 1, len(lines)) if "SUMMARY" in lines[i]), len(lines))
        section = lines[start:end]
        if len(section) > FAILURE_LINES:
            section = [*section[:FAILURE_LINES], f"... ({len(section) - FAILURE_LINES} more lines in {self.log})"]
        return "\n".join(section)


def settings_file(work_dir: Path) -> Path:
    """Return the schemathesis.toml to use: the repository's, else the embedded copy written to `work_dir`."""
    if REPOSITORY_SETTINGS.is_file():
        return REPOSITORY_SETTINGS
    path = work_dir / "schemathesis.toml"
    path.write_text(EMBEDDED_SETTINGS, encoding="utf-8")
    return path


def spec_file(system: str, work_dir: Path) -> Path:
    """Write the system's bundled spec (what the mocks serve at /openapi.json) and return its path."""
    path = work_dir / f"{system}.openapi.json"
    path.write_text(load_spec(system).json, encoding="utf-8")
    return path


def fuzz_system(system: str, base_url: str, token: str, *, max_examples: int, seed: int, out_dir: Path,
                phases: tuple[str, ...] = PHASES) -> FuzzResult:
    """Run schemathesis (every check; every phase unless told) for one system; output in `<out_dir>/<system>.log`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    junit, report_path, log = (out_dir / f"{system}.junit.xml", out_dir / f"{system}.json", out_dir / f"{system}.log")
    with tempfile.TemporaryDirectory(prefix="firmsim-fuzz-") as work:
        work_dir = Path(work)
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(settings_file(work_dir)),
                   "run", str(spec_file(system, work_dir)), "--url", base_url, "--checks", "all",
                   "--phases", ",".join(phases), "--max-examples", str(max_examples), "--seed", str(seed),
                   "--generation-database", "none", "--report", "junit,json",
                   "--report-junit-path", str(junit), "--report-json-path", str(report_path),
                   "--header", f"Authorization: Bearer {token}", "--no-color", "--output-truncate", "false"]
        started = time.monotonic()
        with log.open("w", encoding="utf-8") as output:
            completed = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, cwd=work_dir, check=False)
        seconds = time.monotonic() - started
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return FuzzResult(system, base_url, completed.returncode, seconds, report, junit, log)


def write_junit(results: list[FuzzResult], path: Path) -> None:
    """Merge the systems' JUnit reports into one file, one test suite per system."""
    suites = ET.Element("testsuites", name="firmsim fuzz")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        if result.junit.exists():
            for suite in ET.parse(result.junit).getroot().iter("testsuite"):
                suite.set("name", f"fuzz.{result.system}")
                for case in suite.iter("testcase"):
                    case.set("classname", f"fuzz.{result.system}")
                suites.append(suite)
                for name in totals:
                    totals[name] += int(suite.get(name, "0"))
        else:
            suite = ET.SubElement(suites, "testsuite", name=f"fuzz.{result.system}", tests="1", failures="0",
                                  errors="1", skipped="0")
            case = ET.SubElement(suite, "testcase", classname=f"fuzz.{result.system}", name="schemathesis run")
            ET.SubElement(case, "error", message=f"schemathesis exited {result.exit_code}").text = \
                result.failure_text()
            totals["tests"] += 1
            totals["errors"] += 1
    for name, value in totals.items():
        suites.set(name, str(value))
    ET.indent(suites)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)

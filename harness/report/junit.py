"""JUnit XML: one test case per invariant per scenario, failures carrying the first violations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

MAX_VIOLATIONS_SHOWN = 10


def junit_tree(reports: list[dict[str, Any]]) -> ET.ElementTree[ET.Element | None]:
    """Return the JUnit document of one or more scenario reports."""
    suites = ET.Element("testsuites", name="firmsim")
    total = failed = 0
    for report in reports:
        invariants = report["invariants"]
        suite = ET.SubElement(
            suites, "testsuite", name=f"{report['scenario']}[seed={report['seed']}]",
            tests=str(len(invariants)), failures=str(sum(1 for i in invariants if i["status"] == "fail")),
            errors="0", skipped="0", time=f"{report['timing'].get('wall_s', 0):.3f}",
        )
        for invariant in invariants:
            total += 1
            case = ET.SubElement(suite, "testcase", classname=f"firmsim.{report['scenario']}", name=invariant["id"],
                                 time="0")
            ET.SubElement(case, "system-out").text = f"checked {invariant['checked']} records"
            if invariant["status"] == "fail":
                failed += 1
                violations = invariant["violations"]
                lines = [
                    f"{v['system']} {v['record_id']}: expected {json.dumps(v['expected'], default=str)}, "
                    f"actual {json.dumps(v['actual'], default=str)}"
                    + (f" ({v['message']})" if v.get("message") else "")
                    for v in violations[:MAX_VIOLATIONS_SHOWN]
                ]
                if len(violations) > MAX_VIOLATIONS_SHOWN:
                    lines.append(f"... and {len(violations) - MAX_VIOLATIONS_SHOWN} more")
                failure = ET.SubElement(case, "failure", type="InvariantViolated",
                                        message=f"{len(violations)} violation(s) of {invariant['id']}")
                failure.text = "\n".join(lines)
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(reports: list[dict[str, Any]], path: Path) -> None:
    """Write the JUnit file of one or more scenario reports."""
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(reports).write(path, encoding="utf-8", xml_declaration=True)

"""What an invariant reports: how many records it checked and each violation, naming the record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INVARIANT_IDS = (
    "opportunity-to-project",
    "no-duplicate-customers",
    "contract-versions-aligned",
    "time-billed-exactly-once",
    "expenses-billed-exactly-once",
    "milestones-billed-exactly-once",
    "revenue-matches-policy",
    "ar-ties-out",
    "audit-trail-complete",
    "cost-rates-aligned",
    "credit-status-aligned",
    "exceptions-surfaced",
    "converged",
)


@dataclass(frozen=True, slots=True)
class Violation:
    """One record that breaks an invariant."""

    system: str
    record_id: str
    expected: Any
    actual: Any
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the violation as JSON."""
        return {"system": self.system, "record_id": self.record_id, "expected": self.expected,
                "actual": self.actual, "message": self.message}


@dataclass(slots=True)
class InvariantResult:
    """The outcome of one invariant."""

    id: str
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the invariant could not check soundly, and why (e.g. truth lacks an input); not a failure."""

    @property
    def status(self) -> str:
        """Return `pass` or `fail`."""
        return "fail" if self.violations else "pass"

    def violate(self, system: str, record_id: str, expected: Any, actual: Any, message: str = "") -> None:
        """Record one violation."""
        self.violations.append(Violation(system, record_id, expected, actual, message))

    def note(self, message: str) -> None:
        """Record something left unchecked, and why."""
        if message not in self.notes:
            self.notes.append(message)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON."""
        return {"id": self.id, "status": self.status, "checked": self.checked,
                "violations": [violation.to_dict() for violation in self.violations], "notes": list(self.notes)}

"""What every invariant reads: truth, the four systems' end state and what the engine says about itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.oracle.systems import EngineView, Record, Systems
from harness.oracle.truth_facts import Deal
from harness.oracle.truth_view import TruthView

T = TypeVar("T")


@dataclass(frozen=True)
class Evidence:
    """Truth, the systems and the engine's report, as the invariants read them."""

    truth: TruthView
    systems: Systems
    engine: EngineView | None
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, name: str, compute: Callable[[Evidence], T]) -> T:
        """Return what `compute` derives from the evidence, computed once (several invariants share it)."""
        if name not in self._cache:
            self._cache[name] = compute(self)
        result: T = self._cache[name]
        return result

    def contract_of(self, deal: Deal) -> Record | None:
        """Return the deal's ERP contract when there is exactly one (opportunity-to-project reports the rest)."""
        contracts = self.systems.contracts_of(deal.opportunity_id)
        return contracts[0] if len(contracts) == 1 else None

    def separate_contracts_of(self, deal: Deal) -> list[Record]:
        """Return the ERP contracts booked from the deal's change orders that truth says are separate contracts."""
        return [contract for amendment in self.truth.amendments_of(deal.opportunity_id)
                if amendment.distinct and amendment.priced_at_standalone
                for contract in self.systems.change_contracts_of(amendment.amendment_id)]

    def contract_id_of(self, deal: Deal) -> str | None:
        """Return the id of the deal's one ERP contract, or None."""
        contract = self.contract_of(deal)
        return None if contract is None else str(contract.get("id"))

    def project_of(self, deal: Deal) -> Record | None:
        """Return the deal's PSA project when there is exactly one."""
        projects = self.systems.projects_of(deal.opportunity_id)
        return projects[0] if len(projects) == 1 else None

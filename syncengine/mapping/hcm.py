"""HCM shapes -> the canonical workforce model: workers and their effective-dated cost rates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncengine.domain.deals import CostRate, Worker
from syncengine.mapping.fields import Fields

ACTIVE = "ACTIVE"


def worker_from_record(record: Mapping[str, Any]) -> Worker:
    """Read an HCM Worker; a terminated worker is an inactive resource."""
    fields = Fields(record, f"hcm worker {record.get('id', '?')}")
    name = f"{fields.text('first_name')} {fields.text('last_name')}"
    return Worker(worker_id=fields.text("id"), version=fields.integer("version"), name=name,
                  email=fields.optional_text("email"), role=fields.text("role"),
                  legal_entity=fields.text("legal_entity"), practice=fields.optional_text("practice"),
                  worker_type=fields.text("worker_type"), active=fields.text("status") == ACTIVE)


def cost_rate_worker_id(record: Mapping[str, Any]) -> str:
    """Return the worker a cost rate (event data) belongs to."""
    return Fields(record, f"hcm cost rate {record.get('id', '?')}").text("worker_id")


def is_active_rate(record: Mapping[str, Any]) -> bool:
    """Tell whether a cost rate is in force (not superseded by a correction)."""
    return Fields(record, f"hcm cost rate {record.get('id', '?')}").text("status") == ACTIVE


def cost_rate_from_record(record: Mapping[str, Any]) -> CostRate:
    """Read an HCM CostRate; `source_version` is the HCM cost rate's version (as the PSA spec says)."""
    fields = Fields(record, f"hcm cost rate {record.get('id', '?')}")
    currency = fields.text("currency")
    return CostRate(effective_from=fields.day("effective_from"), hourly_cost=fields.amount("hourly_cost", currency),
                    currency=currency, source_version=fields.integer("version"))

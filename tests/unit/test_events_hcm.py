"""The HCM's emitted events conform to contracts/events: drive every lifecycle, check every event on the feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from contracts.events import event_types
from tests.unit.event_drive import Driver, checked_app, schema_violations

WORKER = {"worker_type": "EMPLOYEE", "first_name": "Oliver", "last_name": "Bennett",
          "email": "oliver.bennett@firmsim.example", "role": "SENIOR_CONSULTANT", "legal_entity": "UK01",
          "practice": "TECHNOLOGY", "hire_date": "2026-03-02"}


@pytest.fixture(scope="module")
def hcm() -> Iterator[Flask]:
    """An HCM whose responses must all conform to its spec."""
    yield from checked_app("hcm")


def _drive(hcm: Driver) -> None:
    worker = hcm.call("POST", "/workers", WORKER)
    path = f"/workers/{worker['id']}"
    hcm.call("PATCH", path, {"practice": "DATA_AI"})
    hcm.call("POST", f"{path}/change-role", {"role": "MANAGER", "effective_date": "2026-04-01", "reason": "PROMOTION"})
    skill = hcm.call("POST", f"{path}/skills", {"name": "Data Engineering", "level": 4})
    hcm.call("PATCH", f"/skills/{skill['id']}", {"level": 5})
    hcm.call("POST", f"{path}/cost-rates", {"effective_from": "2026-03-02", "reason": "HIRE", "hourly_cost": "65.00"})
    hcm.call("POST", f"{path}/cost-rates", {"effective_from": "2026-03-02", "reason": "CORRECTION",
                                            "hourly_cost": "66.50"})
    for week, decision in enumerate(("approve", "reject", "cancel")):
        time_off = hcm.call("POST", f"{path}/time-off", {"start_date": f"2026-08-{10 + 7 * week}",
                                                         "end_date": f"2026-08-{14 + 7 * week}",
                                                         "kind": "VACATION", "hours_per_day": "7.5"})
        hcm.call("POST", f"/time-off/{time_off['id']}/{decision}", {"comment": "Noted"})
    hcm.call("POST", f"{path}/terminate", {"termination_date": "2026-09-30", "reason": "RESIGNATION"})
    hcm.call("POST", f"{path}/rehire", {"rehire_date": "2026-12-01", "role": "MANAGER"})


@pytest.fixture(scope="module")
def events(hcm: Flask) -> list[dict[str, Any]]:
    """Every event the HCM emitted while a worker was hired, promoted, costed, on leave, left and came back."""
    driver = Driver(hcm)
    _drive(driver)
    return driver.events()


def test_every_hcm_event_conforms_to_its_event_schema(events: list[dict[str, Any]]) -> None:
    assert events
    assert schema_violations(events) == []


def test_the_hcm_lifecycles_reach_every_hcm_event_type_of_the_catalog(events: list[dict[str, Any]]) -> None:
    assert sorted({event["type"] for event in events}) == sorted(event_types("hcm"))

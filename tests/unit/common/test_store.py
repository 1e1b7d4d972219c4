"""The record store: ids, versions, immutability, and rollback of a failing request."""

from __future__ import annotations

import sys
import threading

import pytest
from flask import Flask

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from simulators.common.store import Store
from tests.unit.common import failing_toy
from tests.unit.common.conftest import AUTH


@pytest.fixture
def store(clock: ManualClock) -> Store:
    """Return an empty store of widgets on the manual clock."""
    return Store(clock, {"widgets": "WID"})


def test_insert_gives_sequential_ids_version_one_and_timestamps(store: Store) -> None:
    first = store.insert("widgets", {"name": "sprocket"})
    second = store.insert("widgets", {"name": "gear"})

    assert (first["id"], second["id"]) == ("WID-000001", "WID-000002")
    assert (first["version"], first["created_at"], first["updated_at"]) == (1, "2026-03-02T09:00:00Z",
                                                                            "2026-03-02T09:00:00Z")


def test_update_writes_a_new_version_and_leaves_the_old_dict_alone(store: Store, clock: ManualClock) -> None:
    original = store.insert("widgets", {"name": "sprocket"})
    clock.advance(60)

    updated = store.update("widgets", original["id"], {"name": "polished sprocket"})

    assert (updated["version"], updated["updated_at"], updated["created_at"]) == (
        2, "2026-03-02T09:01:00Z", "2026-03-02T09:00:00Z")
    assert original["name"] == "sprocket"


def test_transaction_undoes_inserts_updates_and_id_counters_on_error(store: Store) -> None:
    kept = store.insert("widgets", {"name": "sprocket"})

    with pytest.raises(RuntimeError), store.transaction():
        store.update("widgets", kept["id"], {"name": "changed"})
        store.insert("widgets", {"name": "gear"})
        raise RuntimeError("handler failed")

    assert store.all("widgets") == [kept]
    assert store.insert("widgets", {"name": "bolt"})["id"] == "WID-000002"


def test_nested_transaction_failure_rolls_back_only_its_own_writes(store: Store) -> None:
    with store.transaction():
        store.insert("widgets", {"name": "outer"})
        with pytest.raises(ValueError), store.transaction():
            store.insert("widgets", {"name": "inner"})
            raise ValueError("inner failed")

    assert [widget["name"] for widget in store.all("widgets")] == ["outer"]


def test_where_equal_follows_inserts_updates_rollbacks_and_clear(store: Store) -> None:
    first = store.insert("widgets", {"owner": "ann"})
    assert [w["id"] for w in store.where_equal("widgets", "owner", "ann")] == [first["id"]]
    second = store.insert("widgets", {"owner": "bob"})
    store.seed("widgets", {"id": "WID-000000", "owner": "ann"})
    store.update("widgets", second["id"], {"owner": "ann"})
    assert [w["id"] for w in store.where_equal("widgets", "owner", "ann")] == ["WID-000000", "WID-000001",
                                                                               "WID-000002"]
    assert store.where_equal("widgets", "owner", "bob") == []
    with pytest.raises(RuntimeError), store.transaction():
        store.update("widgets", first["id"], {"owner": "bob"})
        store.insert("widgets", {"owner": "bob"})
        raise RuntimeError("refused")
    assert store.where_equal("widgets", "owner", "bob") == []
    assert store.where_equal("widgets", "owner", "ann")[1] == first
    assert store.where_equal("widgets", "owner", "ann") == store.where("widgets", lambda w: w["owner"] == "ann")
    store.clear()
    assert store.where_equal("widgets", "owner", "ann") == []
    store.insert("widgets", {"owner": "ann"})
    assert len(store.where_equal("widgets", "owner", "ann")) == 1


def test_index_on_several_fields_follows_updates_and_rollbacks(store: Store) -> None:
    monday = store.insert("widgets", {"owner": "ann", "day": "2026-03-02"})
    store.insert("widgets", {"owner": "bob", "day": "2026-03-02"})
    tuesday = store.insert("widgets", {"owner": "ann", "day": "2026-03-03"})
    week = [("ann", "2026-03-02"), ("ann", "2026-03-03"), ("ann", "2026-03-04")]
    assert store.where_equal_any("widgets", ("owner", "day"), week) == [monday, tuesday]
    moved = store.update("widgets", monday["id"], {"day": "2026-03-09"})
    assert store.where_equal_any("widgets", ("owner", "day"), week) == [tuesday]
    with pytest.raises(RuntimeError), store.transaction():
        store.update("widgets", tuesday["id"], {"owner": "bob"})
        raise RuntimeError("refused")
    assert store.where_equal("widgets", ("owner", "day"), ("ann", "2026-03-09")) == [moved]
    assert store.where_equal_any("widgets", ("owner", "day"), week) == [tuesday]


def _lower_owner(widget: dict[str, str]) -> str:
    return widget["owner"].lower()


def test_index_on_a_function_of_the_record_follows_updates_and_rollbacks(store: Store) -> None:
    ann = store.insert("widgets", {"owner": "Ann"})
    store.insert("widgets", {"owner": "bob"})
    assert store.where_equal("widgets", _lower_owner, "ann") == [ann]
    shouted = store.update("widgets", ann["id"], {"owner": "ANN"})
    later = store.insert("widgets", {"owner": "ann"})
    assert store.where_equal("widgets", _lower_owner, "ann") == [shouted, later]
    with pytest.raises(RuntimeError), store.transaction():
        store.update("widgets", later["id"], {"owner": "Bob"})
        raise RuntimeError("refused")
    assert store.where_equal("widgets", _lower_owner, "ann") == [shouted, later]
    assert [w["id"] for w in store.where_equal("widgets", _lower_owner, "bob")] == ["WID-000002"]


def test_transaction_releases_the_lock_after_an_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        raise RuntimeError("refused")
    taken: list[bool] = []

    def other_request() -> None:  # the RLock is reentrant: only another thread sees it held
        taken.append(store.lock.acquire(blocking=False))
        if taken[0]:
            store.lock.release()

    thread = threading.Thread(target=other_request)
    thread.start()
    thread.join()
    assert taken == [True]


def test_missing_record_is_a_404_problem(store: Store) -> None:
    from simulators.common.errors import ApiProblem

    with pytest.raises(ApiProblem) as raised:
        store.get("widgets", "WID-000009")

    assert raised.value.status == 404


@pytest.fixture
def failing(clock: ManualClock) -> Flask:
    """Return the toy whose createWidget polishes every widget, inserts one, then fails on its name."""
    return failing_toy.create_app({"CLOCK": clock})


def test_handler_refusing_after_writing_leaves_no_trace(failing: Flask) -> None:
    client = failing.test_client()
    kept = client.post("/widgets", json={"name": "sprocket"}, headers=AUTH).get_json()

    refused = client.post("/widgets", json={"name": "refuse"}, headers={**AUTH, "Idempotency-Key": "k1"})
    retried = client.post("/widgets", json={"name": "refuse"}, headers={**AUTH, "Idempotency-Key": "k1"})

    state = client.get("/admin/state").get_json()
    assert (refused.status_code, refused.get_json()["type"]) == (422, "https://firmsim.dev/problems/widget-refused")
    assert "Idempotent-Replayed" not in retried.headers  # a refusal is not stored under the key
    assert state["records"]["widgets"] == [kept]
    assert state["events"] == 1
    assert context_of(failing).response_violations == []


def test_crashing_handler_is_a_500_problem_and_rolls_back(failing: Flask) -> None:
    client = failing.test_client()
    client.post("/widgets", json={"name": "sprocket"}, headers=AUTH)

    crashed = client.post("/widgets", json={"name": "crash"}, headers=AUTH)
    created = client.post("/widgets", json={"name": "gear"}, headers=AUTH).get_json()

    assert crashed.status_code == 500
    assert crashed.mimetype == "application/problem+json"
    assert crashed.get_json()["type"] == "https://firmsim.dev/problems/internal-error"
    assert created["id"] == "WID-000002"
    assert [event["subject"] for event in context_of(failing).feed.all()] == ["WID-000001", "WID-000002"]


def _note_length(widget: dict[str, str]) -> int:
    return len(widget.get("note") or "")


def test_updates_of_fields_no_index_reads_leave_lookups_right(store: Store) -> None:
    ann = store.insert("widgets", {"owner": "ann", "day": "2026-03-02", "note": ""})
    assert store.where_equal("widgets", "owner", "ann") == [ann]
    assert store.where_equal("widgets", ("owner", "day"), ("ann", "2026-03-02")) == [ann]
    noted = store.update("widgets", ann["id"], {"note": "polished"})  # no indexed field among the changes
    assert store.where_equal("widgets", "owner", "ann") == [noted]
    assert store.where_equal("widgets", ("owner", "day"), ("ann", "2026-03-02")) == [noted]
    moved = store.update("widgets", ann["id"], {"day": "2026-03-03"})
    assert store.where_equal("widgets", ("owner", "day"), ("ann", "2026-03-02")) == []
    assert store.where_equal("widgets", ("owner", "day"), ("ann", "2026-03-03")) == [moved]
    with pytest.raises(RuntimeError), store.transaction():
        store.update("widgets", ann["id"], {"note": "dropped"})
        raise RuntimeError("refused")
    assert store.where_equal("widgets", "owner", "ann") == [moved]


def test_an_index_on_a_function_follows_any_field_an_update_changes(store: Store) -> None:
    ann = store.insert("widgets", {"owner": "ann", "note": ""})
    assert store.where_equal("widgets", "owner", "ann") == [ann]
    assert store.where_equal("widgets", _note_length, 0) == [ann]
    noted = store.update("widgets", ann["id"], {"note": "polished"})  # read only by the function's index
    assert store.where_equal("widgets", _note_length, 0) == []
    assert store.where_equal("widgets", _note_length, 8) == [noted]
    assert store.where_equal("widgets", "owner", "ann") == [noted]


def test_records_read_as_plain_dicts_in_order_and_share_their_collections_keys(store: Store) -> None:
    fields = {f"field_{number}": str(number) for number in range(22)}
    first = store.insert("widgets", {"name": "sprocket", **fields, "version": 7})
    second = store.insert("widgets", {"name": "gear", **fields})
    renamed = store.update("widgets", first["id"], {"name": "polished", "colour": "red", "version": 9})
    wide = store.insert("widgets", {f"wide_{number}": number for number in range(40)})

    assert type(first) is dict and list(first) == ["id", "name", *fields, "version", "created_at", "updated_at"]
    assert first["version"] == 1 and renamed["version"] == 2
    assert list(renamed) == [*first, "colour"] and renamed["name"] == "polished" and first["name"] == "sprocket"
    assert list(wide) == ["id", *(f"wide_{number}" for number in range(40)), "version", "created_at", "updated_at"]
    assert sys.getsizeof(second) < sys.getsizeof({**second}) / 2  # a 26-field record: 296 rather than 832 bytes
    assert sys.getsizeof(renamed) < sys.getsizeof({**renamed}) / 2

"""The fault plane on business requests: outages, throttling, latency and lost responses."""

from __future__ import annotations

from datetime import timedelta

from simulators.common.app import LATENCY_HEADER, LOST_RESPONSE_HEADER, context_of
from simulators.common.clock import ManualClock, isoformat
from tests.unit.common.conftest import ToyApi


def test_outage_is_503_with_retry_after_for_its_window_only(api: ToyApi, clock: ManualClock) -> None:
    start = clock.now() + timedelta(seconds=10)
    api.add_fault(kind="outage", start=isoformat(start), duration=120)

    before = api.get("/widgets")
    clock.set(start)
    during = api.create()
    clock.set(start + timedelta(seconds=100))
    near_the_end = api.get("/widgets")
    clock.set(start + timedelta(seconds=120))
    after = api.get("/widgets")

    assert before.status_code == 200
    assert (during.status_code, during.headers["Retry-After"]) == (503, "60")
    assert during.get_json()["type"] == "https://firmsim.dev/problems/service-unavailable"
    assert near_the_end.headers["Retry-After"] == "20"
    assert after.status_code == 200
    assert api.widgets() == []
    assert api.context.faults.injected["outage"] == 2


def test_outage_comes_before_auth(api: ToyApi) -> None:
    api.add_fault(kind="outage", params={"retry_after": 30})

    response = api.client.get("/widgets")

    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")


def test_throttle_is_429_only_for_the_named_operations(api: ToyApi) -> None:
    api.add_fault(kind="throttle", params={"operations": ["createWidget"], "retry_after": 7})

    throttled = api.create()
    listed = api.get("/widgets")

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    assert throttled.get_json()["type"] == "https://firmsim.dev/problems/rate-limited"
    assert listed.status_code == 200
    assert api.widgets() == []


def test_throttle_probability_is_drawn_from_the_seeded_stream(clock: ManualClock) -> None:
    from tests.unit.common import toy

    def statuses(seed: int) -> list[int]:
        app = toy.create_app({"CLOCK": ManualClock(clock.now()), "SEED": seed})
        client = app.test_client()
        client.post("/admin/faults", json={"kind": "throttle", "params": {"probability": 0.5}})
        statuses = [client.get("/widgets", headers={"Authorization": "Bearer firmsim-dev-token"}).status_code
                    for _ in range(20)]
        assert context_of(app).response_violations == []
        return statuses

    first, again = statuses(3), statuses(3)

    assert first == again
    assert set(first) == {200, 429}


def test_latency_is_reported_in_a_header_without_sleeping(api: ToyApi) -> None:
    api.add_fault(kind="latency", params={"ms": 250})

    response = api.create()

    assert response.status_code == 201
    assert response.headers[LATENCY_HEADER] == "250"
    assert api.context.faults.injected["latency"] == 1


def test_lost_response_commits_the_write_and_a_retry_with_the_key_replays_it(api: ToyApi) -> None:
    fault = api.add_fault(kind="lost_response", params={"operations": ["createWidget"]}).get_json()
    key = {"Idempotency-Key": "create-sprocket"}

    lost = api.create("sprocket", key)
    api.client.delete(f"/admin/faults/{fault['id']}")
    retry = api.create("sprocket", key)

    assert lost.headers[LOST_RESPONSE_HEADER] == "true"
    assert len(api.widgets()) == 1
    assert len(api.context.feed) == 1
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert LOST_RESPONSE_HEADER not in retry.headers
    assert retry.get_json()["id"] == api.widgets()[0]["id"]
    assert api.context.faults.injected["lost_response"] == 1


def test_lost_response_retried_without_a_key_posts_twice(api: ToyApi) -> None:
    api.add_fault(kind="lost_response", params={"operations": ["createWidget"]})

    api.create("sprocket")
    api.create("sprocket")

    assert len(api.widgets()) == 2  # the classic duplicate-posting trap the sync engine must avoid


def test_retry_during_a_lost_response_fault_still_replays(api: ToyApi) -> None:
    api.add_fault(kind="lost_response")
    key = {"Idempotency-Key": "create-sprocket"}

    api.create("sprocket", key)
    retry = api.create("sprocket", key)

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(api.widgets()) == 1


def test_faults_with_unknown_kind_or_params_are_refused(api: ToyApi) -> None:
    unknown_kind = api.add_fault(kind="meteor")
    unknown_param = api.add_fault(kind="outage", params={"severity": "high"})
    bad_probability = api.add_fault(kind="throttle", params={"probability": 2})
    backwards = api.add_fault(kind="outage", start="2026-03-02T10:00:00Z", end="2026-03-02T09:00:00Z")
    naive = api.add_fault(kind="outage", start="2026-03-02T10:00:00")

    assert [response.status_code for response in (unknown_kind, unknown_param, bad_probability, backwards, naive)] \
        == [400] * 5
    assert api.client.get("/admin/faults").get_json()["items"] == []
    assert backwards.get_json()["field"] == "end"
    assert backwards.get_json()["detail"] == "end: must be after start"


def test_outage_windows_follow_the_clock_both_ways_and_every_change_to_the_schedule() -> None:
    from datetime import UTC, datetime

    from simulators.common.faults import FaultPlane

    plane = FaultPlane()

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)

    plane.add({"kind": "outage", "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T11:00:00Z"})

    def down(hour: int, minute: int = 0) -> bool:
        return plane.on_request(at(hour, minute), "getWidget").outage_retry_after is not None

    assert [down(9), down(9, 59), down(10), down(10, 59), down(11), down(10, 15)] == [
        False, False, True, True, False, True]
    assert not down(11, 45)
    added = plane.add({"kind": "outage", "start": "2026-03-02T11:30:00Z", "duration": 1800})
    assert [down(11, 15), down(11, 45), down(12)] == [False, True, False]
    plane.remove(added.id)
    assert not down(11, 45)
    plane.add({"kind": "latency", "start": "2026-03-02T08:00:00Z", "params": {"ms": 100}})
    assert plane.on_request(at(11, 45), "getWidget").latency_s == 0.1
    plane.reset()
    assert [down(10, 30), plane.on_request(at(11, 45), "getWidget").latency_s] == [False, 0.0]

"""The event feed: one CloudEvents-shaped event per committed change, read with a cursor."""

from __future__ import annotations

from tests.unit.common.conftest import ToyApi

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_each_committed_change_appends_one_cloudevent(api: ToyApi) -> None:
    widget = api.create("sprocket").get_json()
    polished = api.post(f"/widgets/{widget['id']}/polish", headers={"traceparent": TRACEPARENT}).get_json()

    created_event, polished_event = api.get("/events").get_json()["items"]

    assert created_event == {
        "specversion": "1.0", "id": "toy-000001", "source": "urn:firmsim:toy", "type": "toy.widget.created",
        "subject": widget["id"], "time": "2026-03-02T09:00:00Z", "sequence": 1,
        "datacontenttype": "application/json", "data": widget,
    }
    assert polished_event["data"] == polished
    assert polished_event["traceparent"] == TRACEPARENT


def test_cursor_reads_on_from_the_last_event_seen(api: ToyApi) -> None:
    for number in range(5):
        api.create(f"widget {number}")

    first = api.get("/events?limit=2").get_json()
    second = api.get(f"/events?limit=2&after={first['next_cursor']}").get_json()
    third = api.get(f"/events?limit=2&after={second['next_cursor']}").get_json()
    idle = api.get(f"/events?limit=2&after={third['next_cursor']}").get_json()

    assert [event["sequence"] for event in first["items"] + second["items"] + third["items"]] == [1, 2, 3, 4, 5]
    assert (first["next_cursor"], second["next_cursor"], third["next_cursor"]) == ("2", "4", "5")
    assert idle == {"items": [], "next_cursor": "5"}


def test_type_prefix_filters_but_the_cursor_moves_past_skipped_events(api: ToyApi) -> None:
    widget = api.create("sprocket").get_json()
    api.post(f"/widgets/{widget['id']}/polish")
    api.create("gear")

    page = api.get("/events?type=toy.widget.polished").get_json()

    assert [event["type"] for event in page["items"]] == ["toy.widget.polished"]
    assert page["next_cursor"] == "3"


def test_refused_requests_append_nothing(api: ToyApi) -> None:
    widget = api.create("sprocket").get_json()
    api.post(f"/widgets/{widget['id']}/polish", headers={"If-Match": '"9"'})
    api.post("/widgets", {"name": "sprocket", "size": 0})

    assert [event["type"] for event in api.get("/events").get_json()["items"]] == ["toy.widget.created"]


def test_malformed_cursor_is_400(api: ToyApi) -> None:
    response = api.get("/events?after=last")

    assert response.status_code == 400
    assert response.get_json()["field"] == "after"

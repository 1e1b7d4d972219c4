"""The event feed: one CloudEvents-shaped event per committed change, read with a cursor."""

from __future__ import annotations

from datetime import UTC, datetime

from simulators.common.feed import EventFeed
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


def _read_all(api: ToyApi, prefixes: list[str]) -> tuple[list[int], str]:
    """Read the feed two events a page with these prefixes; return the sequences read and the final cursor."""
    types = "".join(f"&type={prefix}" for prefix in prefixes)
    read: list[int] = []
    cursor = "0"
    for _ in range(10):
        page = api.get(f"/events?limit=2&after={cursor}{types}").get_json()
        read += [event["sequence"] for event in page["items"]]
        if page["next_cursor"] == cursor:
            break
        cursor = page["next_cursor"]
    return read, cursor


def test_several_type_prefixes_read_every_matching_event_once_page_by_page(api: ToyApi) -> None:
    for number in range(4):
        widget = api.create(f"widget {number}").get_json()
        if number % 2:
            api.post(f"/widgets/{widget['id']}/polish")
    api.create("last, created")

    assert _read_all(api, ["toy.widget.polished", "toy.widget.created"]) == ([1, 2, 3, 4, 5, 6, 7], "7")
    assert _read_all(api, ["toy.nothing.", "toy.widget.pol"]) == ([3, 6], "7")  # the last one passed all the same
    assert _read_all(api, ["toy.nothing."]) == ([], "7")


def test_a_partial_filtered_page_passes_the_skipped_events_after_its_last_item(api: ToyApi) -> None:
    widget = api.create("sprocket").get_json()
    api.post(f"/widgets/{widget['id']}/polish")
    api.create("gear")
    api.create("cog")

    full = api.get("/events?limit=1&type=toy.widget.polished&type=toy.widget.created").get_json()
    partial = api.get("/events?limit=5&after=1&type=toy.widget.polished&type=toy.nothing.").get_json()

    assert ([event["sequence"] for event in full["items"]], full["next_cursor"]) == ([1], "1")
    assert ([event["sequence"] for event in partial["items"]], partial["next_cursor"]) == ([2], "4")


def test_a_bad_or_excess_type_prefix_is_400_naming_the_parameter(api: ToyApi) -> None:
    bad = api.get("/events?type=toy.widget.&type=Toy-Widget")
    excess = api.get("/events?" + "&".join(f"type=toy.{number}." for number in range(51)))
    most = api.get("/events?" + "&".join(f"type=toy.{number}." for number in range(50)))

    assert (bad.status_code, bad.get_json()["field"]) == (400, "type/1")
    assert (excess.status_code, excess.get_json()["field"]) == (400, "type")
    assert most.status_code == 200


def test_refused_requests_append_nothing(api: ToyApi) -> None:
    widget = api.create("sprocket").get_json()
    api.post(f"/widgets/{widget['id']}/polish", headers={"If-Match": '"9"'})
    api.post("/widgets", {"name": "sprocket", "size": 0})

    assert [event["type"] for event in api.get("/events").get_json()["items"]] == ["toy.widget.created"]


def test_malformed_cursor_is_400(api: ToyApi) -> None:
    response = api.get("/events?after=last")

    assert response.status_code == 400
    assert response.get_json()["field"] == "after"


def test_an_event_reads_the_same_as_it_was_appended_from_any_cursor() -> None:
    feed = EventFeed("toy")
    heard: list[dict[str, object]] = []
    feed.subscribe(heard.append)
    instant = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for number in range(3):
        feed.append("toy.widget.created" if number != 1 else "toy.widget.polished", f"WID-{number}",
                    {"id": f"WID-{number}"}, instant, TRACEPARENT if number == 2 else None)

    assert feed.all() == heard
    assert feed.read(-5, 10) == (heard, 3)
    assert feed.read(1, 1) == (heard[1:2], 2)
    assert feed.read(3, 10) == ([], 3)
    assert feed.read(7, 10) == ([], 7)
    assert feed.read(0, 10, ("toy.widget.polished",)) == (heard[1:2], 3)
    assert feed.types() == ["toy.widget.created", "toy.widget.polished", "toy.widget.created"]
    assert "traceparent" not in heard[0] and heard[2]["traceparent"] == TRACEPARENT

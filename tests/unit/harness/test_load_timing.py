"""Where the time went in a load run: parts derived from the engine's components, the broker's share
when the workers time it, and what is said not to be measured."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from harness.engine_worker import BROKER_PUBLISH, _TimedPublisher
from harness.load.timing import where_the_time_went

NOTHING: tuple[dict[str, float], dict[str, float], dict[str, float]] = ({}, {}, {})


def test_ledger_and_engine_code_are_what_attempts_and_handlers_leave_over() -> None:
    after = ({"psa": 2.0, "erp": 1.0}, {"attempts": 10.0, "handlers": 7.0, "api_calls": 5.0, "intake_calls": 1.5},
             {"business_events": 100.0, "api_calls": 250.0})

    time = where_the_time_went(NOTHING, after)

    assert time["seconds"] == {"systems (request handling, all callers)": 3.0,
                               "engine: API calls (client side, incl. target systems)": 5.0,
                               "engine: feed reads": 1.5, "engine: ledger (tracking, unit of work)": 3.0,
                               "engine: own code (handlers minus their API calls)": 2.0}
    assert time["engine_counters"]["api_calls_per_business_event"] == 2.5
    assert time["not_measured"] == ["broker: none here (the embedded runtime has no bus)"]


def test_the_workers_publishing_time_is_the_brokers_share_and_delivery_is_said_to_be_unmeasured() -> None:
    after: tuple[dict[str, float], dict[str, float], dict[str, float]] = (
        {}, {"attempts": 4.0, "handlers": 3.0, BROKER_PUBLISH: 1.25}, {})

    time = where_the_time_went(({}, {BROKER_PUBLISH: 0.25}, {}), after)

    assert time["seconds"]["broker: publishing (until confirmed)"] == 1.0
    assert time["share"]["broker: publishing (until confirmed)"] == 1.0 / (1.0 + 3.0 + 1.0)  # ledger, own code
    assert time["not_measured"] == ["broker: the time from publish to delivery to a consumer, and acks, are not timed"]


class _SlowPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[int, bytes, str]] = []

    def publish(self, partition: int, body: bytes, message_id: str) -> None:
        self.published.append((partition, body, message_id))

    def publish_batch(self, messages: Sequence[tuple[int, bytes, str]]) -> None:
        self.published.extend(messages)

    def close(self) -> None:
        pass


def test_a_timed_publisher_publishes_everything_and_adds_its_seconds_to_the_broker_component() -> None:
    seconds: defaultdict[str, float] = defaultdict(float)
    inner = _SlowPublisher()
    publisher = _TimedPublisher(inner, lambda component, spent: seconds.__setitem__(component,
                                                                                   seconds[component] + spent))

    publisher.publish(1, b"a", "m1")
    publisher.publish_batch([(2, b"b", "m2"), (3, b"c", "m3")])

    assert [message_id for _, _, message_id in inner.published] == ["m1", "m2", "m3"]
    assert list(seconds) == [BROKER_PUBLISH] and seconds[BROKER_PUBLISH] > 0

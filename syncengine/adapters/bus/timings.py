"""How long messages spend on the bus, as one process's consumers see them.

Every message is stamped at publish with the publisher's wall clock (`time.time_ns()`: RabbitMQ
carries it in the `firmsim-published-ns` header). On delivery to a consumer's callback the delay is
this process's wall clock minus the stamp: publish, broker (queueing, replication, disk), delivery
and the consumer's prefetch buffer. That is as true as the two clocks agree: the same machine's
clock here; workers on other machines add their clock offset (NTP: a millisecond or more), and a
delay below zero (a clock behind the publisher's) is counted as `clock_skewed` and recorded as 1 us.

Acking: from the worker finishing a message (calling its ack) until the consumer's thread wrote the
ack to the broker (AMQP acks are not confirmed: this is all a consumer can time), and the seconds the
consumer's thread spent acking. Durations go into HDR histograms (microseconds, 3 significant
digits, up to an hour) so processes' histograms merge exactly (`to_dict`, `histogram_of`).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from hdrh.histogram import HdrHistogram

PUBLISHED_HEADER = "firmsim-published-ns"
MAX_TRACKED_US = 3_600_000_000


def new_histogram() -> HdrHistogram:
    """Return an empty histogram of durations in microseconds (up to an hour, 3 significant digits)."""
    return HdrHistogram(1, MAX_TRACKED_US, 3)


def _micros(seconds: float) -> int:
    return min(max(int(seconds * 1_000_000), 1), MAX_TRACKED_US)


def histogram_of(encoded: str) -> HdrHistogram:
    """Return the histogram of a `to_dict` field (HdrHistogram's own compressed base64 form)."""
    return HdrHistogram.decode(encoded)


class BusTimings:
    """Delivery delays and ack times of the messages this process consumed (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delivery = new_histogram()
        self.ack = new_histogram()
        self.delivery_seconds = 0.0
        self.ack_wait_seconds = 0.0
        self.ack_seconds = 0.0
        """Seconds the consumer's thread spent acking (writing acks to the broker)."""
        self.unstamped = 0
        """Messages delivered without a publish stamp (published by an older worker)."""
        self.clock_skewed = 0

    def delivered(self, published_ns: int | None, now_ns: int | None = None) -> None:
        """Record the delivery of a message stamped `published_ns` (None: not stamped)."""
        if published_ns is None:
            with self._lock:
                self.unstamped += 1
            return
        delay_s = ((time.time_ns() if now_ns is None else now_ns) - published_ns) / 1e9
        with self._lock:
            if delay_s < 0:
                self.clock_skewed += 1
            self.delivery.record_value(_micros(delay_s))
            self.delivery_seconds += max(delay_s, 0.0)

    def acked(self, waits_s: list[float], spent_s: float) -> None:
        """Record acks written to the broker: each one's wait since its message finished, and the time spent."""
        with self._lock:
            for wait_s in waits_s:
                self.ack.record_value(_micros(wait_s))
                self.ack_wait_seconds += wait_s
            self.ack_seconds += spent_s

    def to_dict(self) -> dict[str, Any]:
        """Return the timings as JSON-ready values (histograms encoded: merge them with `histogram_of`)."""
        with self._lock:
            return {"delivery_delay_us": self.delivery.encode().decode(),
                    "ack_delay_us": self.ack.encode().decode(),
                    "delivery_delay_seconds": self.delivery_seconds, "ack_wait_seconds": self.ack_wait_seconds,
                    "ack_seconds": self.ack_seconds, "unstamped": self.unstamped,
                    "clock_skewed": self.clock_skewed}

    def buckets(self, which: str, bounds_s: tuple[float, ...]) -> tuple[list[tuple[str, float]], float]:
        """Return cumulative (le, count) pairs of `delivery` or `ack` at these bounds, and the sum in seconds.

        Counted from the histogram's counts array: a value counts under a bound when the highest value
        equivalent to it (as HdrHistogram reports it) is at most the bound. HdrHistogram's own iterator took
        ~85 ms per histogram with delays up to a second (pure Python, one step per sub-bucket), per scrape."""
        with self._lock:
            histogram = self.delivery if which == "delivery" else self.ack
            total = self.delivery_seconds if which == "delivery" else self.ack_wait_seconds
            counts = histogram.counts
            ends = [_end_index(histogram, bound * 1_000_000) for bound in bounds_s]
            cumulative = list(itertools.accumulate(sum(counts[start:end])
                                                   for start, end in itertools.pairwise([0, *ends])))
            recorded = histogram.total_count
        pairs = [(str(bound), float(count)) for bound, count in zip(bounds_s, cumulative, strict=True)]
        pairs.append(("+Inf", float(recorded)))
        return pairs, total


def _end_index(histogram: HdrHistogram, bound_us: float) -> int:
    """Return the first counts index whose values are all above `bound_us` (its values are equivalent)."""
    index = int(histogram.get_counts_array_index(int(bound_us)))
    if index >= histogram.counts_len:
        return int(histogram.counts_len)
    highest = histogram.get_highest_equivalent_value(histogram.get_value_from_index(index))
    return index + 1 if highest <= bound_us else index

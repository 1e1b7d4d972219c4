"""The load run's measurements: commits matched by trace id into sync lag, and HDR percentiles."""

from __future__ import annotations

import io
import json
import random

import pytest

from harness.load.measure import CommitLog, CommitWatch, Percentiles, lag_summary

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_lag_runs_from_the_source_commit_to_the_first_commit_on_each_other_system() -> None:
    log = CommitLog()
    log.expect(TRACE, "time_approval")
    log.committed(TRACE, "psa", 10.0, source=False)  # the entry created, same system: not a target
    log.committed(TRACE, "psa", 10.5, source=True)
    log.committed(TRACE, "erp", 11.25, source=False)
    log.committed(TRACE, "erp", 12.0, source=False)  # a second write on erp: the first one counts
    log.committed("f" * 32, "erp", 11.0, source=False)  # a trace the driver did not start

    assert log.lags() == [("time_approval", 10.5, 0.75)]
    assert log.unsynced() == {}


def test_an_event_with_commits_only_on_its_own_system_is_unsynced() -> None:
    log = CommitLog()
    log.expect(TRACE, "expense_approval")
    log.committed(TRACE, "psa", 1.0, source=False)
    log.committed(TRACE, "psa", 2.0, source=True)

    assert log.lags() == []
    assert log.unsynced() == {"expense_approval": 1}
    assert log.unsynced(since=3.0) == {}


def test_the_watch_notes_only_traced_successful_writes() -> None:
    log = CommitLog()
    log.expect(TRACE, "payment")

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        status = "201 Created" if environ["PATH_INFO"] == "/ok" else "422 Unprocessable"
        start_response(status, [])  # type: ignore[operator]
        return [b""]

    watch = CommitWatch(app, "erp", log)
    traced = {"HTTP_TRACEPARENT": f"00-{TRACE}-00f067aa0ba902b7-01", "REQUEST_METHOD": "POST"}
    watch({**traced, "PATH_INFO": "/refused"}, lambda *args: None)
    watch({**traced, "PATH_INFO": "/ok", "HTTP_FIRMSIM_LOAD_SOURCE": "1"}, lambda *args: None)

    assert log.unsynced() == {"payment": 1}


def test_percentiles_come_from_an_hdr_histogram_in_seconds() -> None:
    histogram = Percentiles()
    for millis in range(1, 1001):
        histogram.record(millis / 1000)

    summary = histogram.summary()
    assert summary["count"] == 1000
    assert summary["p50"] == pytest.approx(0.5, rel=0.01)
    assert summary["p99"] == pytest.approx(0.99, rel=0.01)
    assert summary["p99_9"] == pytest.approx(0.999, rel=0.01)
    assert summary["max"] == pytest.approx(1.0, rel=0.01)
    assert lag_summary([("payment", 0.0, 0.2)])["payment"]["count"] == 1


def test_the_summary_is_hdrhistograms_own_percentiles_max_and_mean_read_faster() -> None:
    histogram = Percentiles()
    draw = random.Random(7)
    for _ in range(3000):
        histogram.record(draw.lognormvariate(-3, 2), draw.randint(1, 3))
    hdr = histogram._histogram

    summary = histogram.summary()

    assert summary == {"count": hdr.get_total_count(), "p50": hdr.get_value_at_percentile(50) / 1e6,
                       "p95": hdr.get_value_at_percentile(95) / 1e6, "p99": hdr.get_value_at_percentile(99) / 1e6,
                       "p99_9": hdr.get_value_at_percentile(99.9) / 1e6, "max": hdr.get_max_value() / 1e6,
                       "mean": hdr.get_mean_value() / 1e6}
    assert lag_summary([("payment", 0.0, 0.2)] * 3 + [("invoice", 0.0, 0.1)])["payment"]["count"] == 3


def test_a_batch_naming_other_entries_syncs_their_events_too() -> None:
    log = CommitLog()
    other = "a" * 32
    for trace, entry in ((TRACE, "TE-000001"), (other, "TE-000002")):
        log.expect(trace, "time_approval")
        log.expect_source(entry, trace)
        log.committed(trace, "psa", 1.0, source=True)
    batch = json.dumps({"items": [{"source_id": "TE-000001"}, {"source_id": "TE-000002"}]}).encode()

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        assert environ["wsgi.input"].read() == batch  # type: ignore[attr-defined]
        start_response("201 Created", [])  # type: ignore[operator]
        return [b""]

    CommitWatch(app, "erp", log)({
        "HTTP_TRACEPARENT": f"00-{TRACE}-00f067aa0ba902b7-01", "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(batch)), "wsgi.input": io.BytesIO(batch),
    }, lambda *args: None)

    assert sorted(kind for kind, _, _ in log.lags()) == ["time_approval", "time_approval"]
    assert log.unsynced() == {}

"""Several worker processes' metrics snapshots make one: counts summed, lag samples joined, and a
snapshot survives the JSON a worker writes as it stops."""

from __future__ import annotations

import dataclasses
import json

from syncengine.runtime.metrics import Metrics, merge_snapshots, snapshot_from_dict


def _worker(processed: int, lags: list[float], api_calls: int) -> Metrics:
    metrics = Metrics()
    flow = metrics.flow("time_expense_billing")
    flow.processed, flow.api_calls, flow.sync_lag_s = processed, api_calls, list(lags)
    metrics.api_calls[("erp", "201")] += api_calls
    return metrics


def test_merged_snapshots_sum_the_counts_and_join_the_lag_samples() -> None:
    first = _worker(3, [1.0, 2.0, 3.0], 6).snapshot(max_queue_depth=7)
    second = _worker(1, [10.0], 4).snapshot(max_queue_depth=2)

    merged = merge_snapshots([first, second])

    assert merged.business_events == 4
    assert sorted(merged.sync_lag_s) == [1.0, 2.0, 3.0, 10.0]
    assert merged.flows["time_expense_billing"].processed == 4
    assert merged.api_calls == {"erp": {"201": 10}}
    assert merged.api_calls_per_business_event == 10 / 4
    assert merged.max_queue_depth == 7


def test_a_snapshot_comes_back_whole_from_a_workers_json() -> None:
    snapshot = _worker(2, [0.5, 1.5], 3).snapshot()

    assert snapshot_from_dict(json.loads(json.dumps(dataclasses.asdict(snapshot)))) == snapshot


def test_no_snapshots_merge_into_an_empty_one() -> None:
    merged = merge_snapshots([])

    assert merged.business_events == 0 and merged.sync_lag_s == [] and merged.api_calls_per_business_event == 0.0

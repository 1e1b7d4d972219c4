"""The run's daily sync-lag series reads each day's new samples of every flow, and only those."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from harness.runner.sim import _new_sync_lags
from syncengine.runtime.engine import Engine
from syncengine.runtime.metrics import FlowCounts


def test_each_day_gets_the_new_samples_of_every_flow_and_no_old_one() -> None:
    flows = {"billing": FlowCounts(sync_lag_s=[10.0, 11.0]), "time": FlowCounts(sync_lag_s=[500.0])}
    engine = cast(Engine, SimpleNamespace(metrics=SimpleNamespace(flows=flows)))
    seen: dict[str, Any] = {}
    assert sorted(_new_sync_lags(engine, seen)) == [10.0, 11.0, 500.0]
    flows["billing"].sync_lag_s.append(12.0)  # the day's new samples land in the first flow of the sorted
    flows["time"].sync_lag_s.append(1.0)      # order: a slice of the concatenation's tail took old ones
    flows["cost"] = FlowCounts(sync_lag_s=[3.0])
    assert sorted(_new_sync_lags(engine, seen)) == [1.0, 3.0, 12.0]
    assert _new_sync_lags(engine, seen) == []

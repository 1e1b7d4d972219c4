"""The engine core and its runtimes."""

from syncengine.runtime.dispatch import AttemptOutcome, AttemptResult
from syncengine.runtime.engine import Engine
from syncengine.runtime.metrics import FlowCounts, Metrics, MetricsSnapshot
from syncengine.runtime.registry import Delivery, Flow, Handler, HandlerRegistry, Route

__all__ = ["AttemptOutcome", "AttemptResult", "Delivery", "Engine", "Flow", "FlowCounts", "Handler",
           "HandlerRegistry", "Metrics", "MetricsSnapshot", "Route"]

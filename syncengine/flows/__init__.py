"""The engine's flows, one module each; every module exposing `FLOW` is a built-in flow
(harness.runner.flows.builtin_flows). See syncengine/__init__.py for how a flow is written."""

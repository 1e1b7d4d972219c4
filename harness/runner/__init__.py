"""Runners: simulated (in-process, virtual time) and, later, live."""

"""Adapters: the HTTP client of each system, clocks."""

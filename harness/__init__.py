"""The harness: firmsim run, the oracle, reports."""

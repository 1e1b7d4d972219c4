"""The sync engine: the reference middleware under test."""

"""The contracts every part is written against: OpenAPI specs, event schemas, Pact files."""

from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent
OPENAPI_DIR = CONTRACTS_DIR / "openapi"
EVENTS_DIR = CONTRACTS_DIR / "events"
PACTS_DIR = CONTRACTS_DIR / "pacts"

"""Verify the committed pacts (contracts/pacts/) against a running implementation of a system.

The sync engine's consumer tests wrote one pact per system: the HTTP calls its flows make and the
events it consumes. Each interaction names a provider state as a plain sentence whose parameters
carry how to reach it: `seed` (the records the system holds, for the firmsim admin API's
`POST /admin/seed` after `POST /admin/reset`), `faults` (for `POST /admin/faults`) and, for an event,
`trigger` (the user's request that makes the system emit it; the event is then read back from
`GET /events`). So any implementation that offers the firmsim admin API can be verified: the mocks,
or a deployment team's adapter in front of its real sandbox.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts import PACTS_DIR

CONSUMER = "firmsim-syncengine"
TIMEOUT_S = 30.0


class BadInput(ValueError):
    """A request the command cannot act on (unknown provider, missing pact file, bad URL)."""


class Unreachable(RuntimeError):
    """The system to verify cannot be reached."""


@dataclass(frozen=True, slots=True)
class Interaction:
    """One interaction of a pact file."""

    description: str
    kind: str
    state: str
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionResult:
    """How one interaction fared; `mismatch` says what differed."""

    interaction: Interaction
    ok: bool
    mismatch: str = ""


@dataclass
class ProviderReport:
    """The verification of one system's pact."""

    provider: str
    base_url: str
    results: list[InteractionResult] = field(default_factory=list)
    output: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether every interaction was verified (and there was at least one)."""
        return bool(self.results) and all(result.ok for result in self.results)


def pact_path(provider: str, pacts_dir: Path = PACTS_DIR) -> Path:
    """Return the pact file between the sync engine and a system; BadInput when it is missing."""
    path = pacts_dir / f"{CONSUMER}-{provider}.json"
    if not path.is_file():
        raise BadInput(f"no pact file for provider {provider!r}: {path} does not exist")
    return path


def load_interactions(path: Path) -> list[Interaction]:
    """Return the interactions of a pact file, in file order."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BadInput(f"{path}: not a readable pact file ({error})") from error
    interactions = []
    for item in document.get("interactions", []):
        states = item.get("providerStates") or [{}]
        message = item.get("type") == "Asynchronous/Messages"
        event_type = item.get("contents", {}).get("content", {}).get("type") if message else None
        interactions.append(Interaction(item["description"], "message" if message else "HTTP",
                                        str(states[0].get("name", "")), event_type))
    return interactions


def check_base_url(base_url: str) -> str:
    """Return the URL without a trailing slash; BadInput when it is not an http(s) URL with a host."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"--url: expected an http(s) URL such as http://127.0.0.1:8102, got {base_url!r}")
    return base_url.rstrip("/")


def check_reachable(base_url: str) -> None:
    """Raise Unreachable unless something answers HTTP at the base URL."""
    try:
        httpx.get(f"{base_url}/openapi.json", timeout=5.0)
    except httpx.HTTPError as error:
        raise Unreachable(f"{base_url} cannot be reached ({type(error).__name__}: {error})") from error


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep the Rust verifier's report (stdout) and its helper servers' request log (stderr) quiet.

    The command prints its own table and the mismatches, which the verifier's results carry.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        with redirect_stderr(io.StringIO()):
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _describe(mismatch: Any) -> str:
    """Return a verifier mismatch as readable lines: kind, where, what differed."""
    if not isinstance(mismatch, dict):
        return str(mismatch)
    items = mismatch.get("mismatches") if mismatch.get("type") == "mismatches" else [mismatch]
    lines = []
    for item in items or [mismatch]:
        kind = item.get("type", "error")
        text = item.get("mismatch") or item.get("message") or json.dumps(item, sort_keys=True)
        where = f" at {item['path']}" if item.get("path") else (f" {item['key']}" if item.get("key") else "")
        lines.append(f"{kind}{where}: {text}")
    return "\n".join(lines)


def _only(interactions: list[Interaction]) -> str:
    return "^(" + "|".join(re.escape(item.description) for item in interactions) + ")$"


def _run(verifier: Any, results: dict[str, dict[str, Any]]) -> str:
    """Run one verifier; add its interaction results (by description) and return its report."""
    verifier.set_coloured_output(enabled=False)
    try:
        with _quiet():
            verifier.verify()
    except RuntimeError:
        pass  # the results say which interactions failed and why
    for item in verifier.results.get("interactionResults", []):
        results[str(item.get("description"))] = item
    return str(verifier.output(strip_ansi=True))


def verify_provider(provider: str, base_url: str, token: str, *, admin_token: str | None = None,
                    pacts_dir: Path = PACTS_DIR) -> ProviderReport:
    """Verify one system's pact against the implementation at `base_url`.

    HTTP interactions are replayed against the system; events are produced by the local callback
    endpoint (which triggers them in the system and reads them back from its feed).
    """
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # no usage telemetry unless the user asks for it
    from pact import Verifier  # pact-python is a contract-testing dependency: imported only when verifying

    from harness.pact_states import PactCallbacks, ProviderStates

    base_url = check_base_url(base_url)
    path = pact_path(provider, pacts_dir)
    interactions = load_interactions(path)
    check_reachable(base_url)
    calls = [item for item in interactions if item.kind == "HTTP"]
    events = [item for item in interactions if item.kind == "message"]
    outcomes: dict[str, dict[str, Any]] = {}
    output = []
    states = ProviderStates(base_url, token, admin_token, interactions)
    try:
        states.check_admin_api()
        with PactCallbacks(states) as callbacks:
            if calls:
                output.append(_run(Verifier(provider, host=urlsplit(base_url).hostname)
                                   .add_transport(url=base_url)
                                   .state_handler(callbacks.state_url, teardown=False, body=True)
                                   .add_source(str(path)).filter(_only(calls))
                                   .add_custom_header("Authorization", f"Bearer {token}")
                                   .set_request_timeout(int(TIMEOUT_S * 1000)), outcomes))
            if events:
                output.append(_run(Verifier(provider, host="127.0.0.1")
                                   .add_transport(protocol="message", port=callbacks.server.port,
                                                  path="/_pact/message")
                                   .state_handler(callbacks.state_url, teardown=False, body=True)
                                   .add_source(str(path)).filter(_only(events))
                                   .set_request_timeout(int(TIMEOUT_S * 1000)), outcomes))
    finally:
        states.close()
    report = ProviderReport(provider, base_url, output="\n".join(output))
    for interaction in interactions:
        outcome = outcomes.get(interaction.description)
        if interaction.state in states.setup_errors:
            report.results.append(InteractionResult(interaction, False, f"provider state could not be set up: "
                                                                        f"{states.setup_errors[interaction.state]}"))
        elif outcome is None:
            report.results.append(InteractionResult(interaction, False, "not verified: the verifier gave no result"))
        elif outcome.get("result") == "OK":
            report.results.append(InteractionResult(interaction, True))
        else:
            report.results.append(InteractionResult(interaction, False, _describe(outcome.get("mismatch"))))
    return report

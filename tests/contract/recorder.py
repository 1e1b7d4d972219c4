"""Record what the engine's real code sends and reads while it handles one event against the mocks.

Every request a handler makes goes through `RecordingTransport` to the in-process mock, which notes
the request, the answer and the provider's state just before it (as an admin seed: the records that
differ from a freshly started system). The engine's own JSON parsing is wrapped so that each answer
remembers which fields the engine read (`tests.contract.tracking`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

import httpx
from flask import Flask

from simulators.common.app import context_of
from syncengine.adapters import http as engine_http
from syncengine.ledger.memory import InMemoryLedger
from tests.contract.tracking import tracked

Seed = dict[str, list[dict[str, Any]]]
REQUEST_HEADERS = ("Content-Type", "Idempotency-Key", "If-Match")


def export(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Return a system's records, by collection."""
    return context_of(app).store.export()


def seed_of(app: Flask, baseline: dict[str, list[dict[str, Any]]]) -> Seed:
    """Return the records a freshly started system needs seeded to stand where `app` stands now."""
    seed: Seed = {}
    for collection, records in export(app).items():
        before = {record["id"]: record for record in baseline.get(collection, [])}
        changed = [record for record in records if before.get(record["id"]) != record]
        if changed:
            seed[collection] = changed
    return seed


@dataclass
class Exchange:
    """One request the engine made and the answer it got."""

    system: str
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any
    seed: Seed
    faults: list[dict[str, Any]]
    headers_read: set[str] = field(default_factory=set)


class Recorder:
    """The exchanges of one handler run, in order."""

    def __init__(self, apps: Mapping[str, Flask], baselines: Mapping[str, dict[str, list[dict[str, Any]]]],
                 faults: Mapping[str, list[dict[str, Any]]]) -> None:
        self.apps = apps
        self.baselines = baselines
        self.faults = faults
        self.exchanges: list[Exchange] = []

    def transport(self, system: str) -> httpx.BaseTransport:
        """Return the transport that records the calls to one system."""
        return RecordingTransport(system, self)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Wrap the engine's parsing of answers so that each answer notes the fields read."""
        parse = engine_http._parse_body
        result_type = engine_http.ApiResult

        def parse_tracked(response: httpx.Response) -> Any:
            value = parse(response)
            if isinstance(value, dict | list) and self.exchanges:
                value = tracked(value)
                self.exchanges[-1].response_body = value
            return value

        def result(status: int, body: Any, headers: Mapping[str, str], latency_ms: int = 0) -> Any:
            exchange = self.exchanges[-1]
            return result_type(status, body, HeadersRead(headers, exchange.headers_read), latency_ms)

        with mock.patch.object(engine_http, "_parse_body", parse_tracked), \
                mock.patch.object(engine_http, "ApiResult", result):
            yield


class HeadersRead(Mapping[str, str]):
    """Response headers that note which names were read."""

    def __init__(self, headers: Mapping[str, str], read: set[str]) -> None:
        self._headers = {name.lower(): value for name, value in headers.items()}
        self._read = read

    def __getitem__(self, name: str) -> str:
        self._read.add(name.lower())
        return self._headers[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self._read.add(name.lower())
        return self._headers.get(name.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


class RecordingTransport(httpx.BaseTransport):
    """Send a request to the in-process mock and note the exchange."""

    def __init__(self, system: str, recorder: Recorder) -> None:
        self.system = system
        self.recorder = recorder
        self.inner = httpx.WSGITransport(app=recorder.apps[system])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Snapshot the provider's state, forward the request, note request and answer."""
        app = self.recorder.apps[self.system]
        seed = seed_of(app, self.recorder.baselines[self.system])
        content = request.read()
        response = self.inner.handle_request(request)
        response.read()
        body = json.loads(content) if content else None
        answer = json.loads(response.content) if response.content else None
        self.recorder.exchanges.append(Exchange(
            system=self.system, method=request.method, path=request.url.path,
            query=parse_qsl(request.url.query.decode(), keep_blank_values=True),
            headers={name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers},
            body=body, status=response.status_code,
            response_headers={name.lower(): value for name, value in response.headers.items()},
            response_body=answer, seed=seed, faults=list(self.recorder.faults.get(self.system, []))))
        return response


def copy_ledger(ledger: Any) -> InMemoryLedger:
    """Return an independent copy of an in-memory ledger's committed state."""
    if not isinstance(ledger, InMemoryLedger):
        raise TypeError(f"expected an InMemoryLedger, got {type(ledger).__name__}")
    copy = InMemoryLedger()
    for source, target in zip(ledger._tables, copy._tables, strict=True):
        target.committed = dict(source.committed)
    return copy


def ledger_state(ledger: InMemoryLedger) -> list[dict[Any, Any]]:
    """Return the committed state of every table of an in-memory ledger (to compare two runs)."""
    return [dict(table.committed) for table in ledger._tables]

"""The HTTP client: every outcome classified, tokens refreshed, latency and calls reported."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from flask import Flask, Response, jsonify

from simulators.common.app import context_of
from simulators.common.clock import ManualClock
from syncengine.adapters.http import Credentials, SystemClient
from syncengine.adapters.outcomes import (
    BUSINESS_SLUGS,
    BusinessHttpError,
    Call,
    ConflictHttpError,
    Outcome,
    PermanentHttpError,
    TransientHttpError,
    classify,
    parse_retry_after,
)
from syncengine.domain import BusinessException, TransientFailure
from tests.unit.syncengine.conftest import T0, add_fault

TOKEN = "firmsim-dev-token"


@pytest.fixture
def calls() -> list[Call]:
    return []


@pytest.fixture
def client(toy: Flask, clock: ManualClock, calls: list[Call]) -> Iterator[SystemClient]:
    client = SystemClient("toy", "http://toy", clock, token=TOKEN, app=toy, timeout_s=10,
                          credentials=Credentials("firmsim", "firmsim-secret"), observer=calls.append)
    yield client
    client.close()


def problem(status: int, slug: str, **headers: str) -> Response:
    response = jsonify({"type": f"https://firmsim.dev/problems/{slug}", "title": slug, "status": status,
                        "detail": f"{slug} happened"})
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.update(headers)
    return response


@pytest.fixture
def refusals() -> Flask:
    app = Flask("refusals")

    @app.post("/problems/<int:status>/<slug>")
    def refuse(status: int, slug: str) -> Response:
        return problem(status, slug)

    @app.get("/html")
    def html() -> Response:
        return Response("<html>ok</html>", mimetype="text/html")

    return app


def test_a_successful_post_returns_the_parsed_record_and_etag(client: SystemClient) -> None:
    result = client.post("/widgets", {"name": "gear"}, idempotency_key="k-1")
    assert (result.status, result.body["name"], result.etag, result.replayed) == (201, "gear", '"1"', False)
    assert client.get(f"/widgets/{result.body['id']}").body == result.body


def test_a_body_hashed_before_posting_is_sent_as_hashed_and_a_changed_one_as_it_now_stands(
        client: SystemClient) -> None:
    body = {"name": "gear", "size": 3}
    assert client.encode(body) == b'{"name":"gear","size":3}'
    assert client.post("/widgets", body, idempotency_key="k-hashed").body["name"] == "gear"
    client.encode(body)
    other = {"name": "cog"}  # not the body encoded: encoded as it stands
    assert client.post("/widgets", other, idempotency_key="k-other").body["name"] == "cog"
    body["name"] = "wheel"  # changed after it was last sent: encoded again only once it is hashed again
    client.encode(body)
    assert client.post("/widgets", body, idempotency_key="k-changed").body["name"] == "wheel"


def test_a_post_without_an_idempotency_key_is_refused_before_sending(client: SystemClient) -> None:
    with pytest.raises(ValueError, match="Idempotency-Key"):
        client.post("/widgets", {"name": "gear"}, idempotency_key="")
    assert client.calls == {}


def test_a_lost_response_looks_like_a_timeout_and_the_retry_is_replayed(
        client: SystemClient, toy: Flask, calls: list[Call]) -> None:
    add_fault(toy, "lost_response", operations=["createWidget"])
    with pytest.raises(TransientHttpError) as raised:
        client.post("/widgets", {"name": "gear"}, idempotency_key="k-lost")
    assert (raised.value.reason, raised.value.status, raised.value.problem) == ("lost-response", None, None)
    assert calls[-1].latency_ms == 10_000
    toy.test_client().delete("/admin/faults")
    retried = client.post("/widgets", {"name": "gear"}, idempotency_key="k-lost")
    assert retried.replayed
    assert [w["id"] for w in client.pages("/widgets")] == [retried.body["id"]]
    assert client.calls == {"lost-response": 1, "201": 1, "200": 1}


def test_a_429_is_transient_throttled_and_carries_retry_after(client: SystemClient, toy: Flask) -> None:
    add_fault(toy, "throttle", retry_after=7)
    with pytest.raises(TransientHttpError) as raised:
        client.get("/widgets")
    assert (raised.value.status, raised.value.throttled, raised.value.retry_after_s) == (429, True, 7.0)
    assert isinstance(raised.value, TransientFailure)


def test_an_outage_is_transient_with_the_outage_retry_after(client: SystemClient, toy: Flask) -> None:
    add_fault(toy, "outage", retry_after=30)
    with pytest.raises(TransientHttpError) as raised:
        client.post("/widgets", {"name": "gear"}, idempotency_key="k-down")
    assert (raised.value.status, raised.value.reason, raised.value.retry_after_s) == (503, "service-unavailable", 30)
    assert not raised.value.throttled


def test_simulated_latency_is_reported_to_the_caller(client: SystemClient, toy: Flask, calls: list[Call]) -> None:
    add_fault(toy, "latency", ms=250)
    assert client.get("/widgets").latency_ms == 250
    assert calls[-1].latency_ms == 250


def test_an_expired_token_is_refreshed_once_and_the_call_retried(client: SystemClient, toy: Flask) -> None:
    add_fault(toy, "token_expiry", start=T0)
    result = client.get("/widgets")
    assert result.status == 200
    assert client.token is not None and client.token.startswith("fst_")
    assert client.calls == {"401": 1, "200": 2}
    assert context_of(toy).calls[("issueToken", 200)] == 1


def test_an_expired_token_without_credentials_is_a_permanent_failure(toy: Flask, clock: ManualClock) -> None:
    client = SystemClient("toy", "http://toy", clock, token=TOKEN, app=toy)
    add_fault(toy, "token_expiry", start=T0)
    with pytest.raises(PermanentHttpError) as raised:
        client.get("/widgets")
    assert raised.value.status == 401
    client.close()


def test_a_client_with_only_credentials_gets_its_token_first(toy: Flask, clock: ManualClock) -> None:
    client = SystemClient("toy", "http://toy", clock, credentials=Credentials("firmsim", "firmsim-secret"), app=toy)
    assert client.get("/widgets").status == 200
    assert client.calls == {"200": 2}
    client.close()


def test_a_stale_if_match_is_a_conflict(client: SystemClient) -> None:
    widget = client.post("/widgets", {"name": "gear"}, idempotency_key="k-2").body
    with pytest.raises(ConflictHttpError) as raised:
        client.post(f"/widgets/{widget['id']}/polish", idempotency_key="k-3", if_match='"9"')
    assert raised.value.status == 412


def test_reusing_an_idempotency_key_with_another_body_is_permanent(client: SystemClient) -> None:
    client.post("/widgets", {"name": "gear"}, idempotency_key="k-4")
    with pytest.raises(PermanentHttpError) as raised:
        client.post("/widgets", {"name": "cog"}, idempotency_key="k-4")
    assert (raised.value.status, raised.value.reason) == (422, "idempotency-key-reused")


def test_a_missing_record_is_permanent(client: SystemClient) -> None:
    with pytest.raises(PermanentHttpError) as raised:
        client.get("/widgets/WID-999999")
    assert (raised.value.status, raised.value.reason) == (404, "not-found")


@pytest.mark.parametrize("slug", sorted(BUSINESS_SLUGS))
def test_a_business_422_is_a_business_exception_with_its_slug(refusals: Flask, clock: ManualClock,
                                                              slug: str) -> None:
    client = SystemClient("erp", "http://erp", clock, token=TOKEN, app=refusals)
    with pytest.raises(BusinessHttpError) as raised:
        client.post(f"/problems/422/{slug}", {}, idempotency_key="k")
    assert isinstance(raised.value, BusinessException)
    assert (raised.value.reason, raised.value.status) == (slug, 422)
    assert f"{slug} happened" in raised.value.detail


@pytest.mark.parametrize(("status", "slug", "error"), [
    (409, "invalid-transition", ConflictHttpError), (422, "validation-error", PermanentHttpError),
    (403, "attribute-owned-elsewhere", PermanentHttpError), (500, "internal-error", TransientHttpError),
])
def test_other_refusals_are_classified_by_status(refusals: Flask, clock: ManualClock, status: int, slug: str,
                                                 error: type[Exception]) -> None:
    client = SystemClient("erp", "http://erp", clock, token=TOKEN, app=refusals)
    with pytest.raises(error):
        client.post(f"/problems/{status}/{slug}", {}, idempotency_key="k")


def test_a_success_that_is_not_json_is_permanent(refusals: Flask, clock: ManualClock) -> None:
    client = SystemClient("erp", "http://erp", clock, token=TOKEN, app=refusals)
    with pytest.raises(PermanentHttpError) as raised:
        client.get("/html")
    assert raised.value.reason == "malformed-response"


@pytest.mark.parametrize(("exception", "reason"), [
    (httpx.ReadTimeout("slow"), "timeout"), (httpx.ConnectError("refused"), "connection-error"),
])
def test_network_failures_are_transient(clock: ManualClock, exception: Exception, reason: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exception

    client = SystemClient("erp", "http://erp", clock, token=TOKEN, transport=httpx.MockTransport(fail))
    with pytest.raises(TransientHttpError) as raised:
        client.get("/events")
    assert (raised.value.reason, raised.value.status) == (reason, None)
    assert client.calls == {reason: 1}


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert parse_retry_after("12", T0) == 12.0
    assert parse_retry_after(format_datetime(T0 + timedelta(seconds=90), usegmt=True), T0) == 90.0
    assert parse_retry_after(format_datetime(T0 - timedelta(seconds=90), usegmt=True), T0) == 0.0
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after(None, T0) is None


def test_classification_by_status() -> None:
    assert [classify(status, None) for status in (200, 204, 408, 429, 502, 409, 412, 400, 404, 422)] == [
        Outcome.OK, Outcome.OK, Outcome.TRANSIENT, Outcome.TRANSIENT, Outcome.TRANSIENT, Outcome.CONFLICT,
        Outcome.CONFLICT, Outcome.PERMANENT, Outcome.PERMANENT, Outcome.PERMANENT]


def test_the_business_slugs_are_the_ones_the_conventions_list() -> None:
    conventions = (Path(__file__).parents[3] / "contracts/openapi/CONVENTIONS.md").read_text()
    listed = conventions.split("the business exceptions (422)", 1)[1].split(":", 1)[1].split(".\n", 1)[0]
    slugs = {part.strip().strip("`") for part in listed.replace("\n", " ").split(",")}
    assert slugs == BUSINESS_SLUGS

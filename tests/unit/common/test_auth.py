"""Bearer tokens (static and issued), the token_expiry fault, and the per-caller rate limit."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.common.clock import ManualClock, isoformat
from tests.unit.common.conftest import ToyApi

CREDENTIALS = {"grant_type": "client_credentials", "client_id": "firmsim", "client_secret": "firmsim-secret"}


def issued_token(api: ToyApi) -> str:
    """Return a token from the client-credentials grant."""
    response = api.client.post("/oauth/token", json=CREDENTIALS)
    assert response.status_code == 200
    token: str = response.get_json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401_with_a_challenge(api: ToyApi) -> None:
    response = api.client.get("/widgets")

    assert response.status_code == 401
    assert response.get_json()["type"] == "https://firmsim.dev/problems/unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Basic ZmlybXNpbTpzZWNyZXQ=", "Bearer"])
def test_unknown_or_malformed_token_is_401(api: ToyApi, authorization: str) -> None:
    response = api.client.get("/widgets", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.get_json()["type"] == "https://firmsim.dev/problems/unauthorized"


def test_unauthorized_write_changes_nothing(api: ToyApi) -> None:
    response = api.client.post("/widgets", json={"name": "sprocket"})

    assert response.status_code == 401
    assert api.widgets() == []


def test_client_credentials_give_a_bearer_token_that_works(api: ToyApi) -> None:
    response = api.client.post("/oauth/token", json=CREDENTIALS)

    grant = response.get_json()
    assert (grant["token_type"], grant["expires_in"]) == ("Bearer", 3600)
    assert response.headers["Cache-Control"] == "no-store"
    assert api.client.get("/widgets", headers=bearer(grant["access_token"])).status_code == 200


def test_wrong_client_secret_gets_no_token(api: ToyApi) -> None:
    response = api.client.post("/oauth/token", json={**CREDENTIALS, "client_secret": "guess"})

    assert response.status_code == 401
    assert response.get_json()["type"] == "https://firmsim.dev/problems/invalid-client"


def test_issued_token_expires_after_an_hour(api: ToyApi, clock: ManualClock) -> None:
    token = issued_token(api)
    clock.advance(3599)
    assert api.client.get("/widgets", headers=bearer(token)).status_code == 200

    clock.advance(1)
    response = api.client.get("/widgets", headers=bearer(token))

    assert response.status_code == 401
    assert response.get_json()["type"] == "https://firmsim.dev/problems/token-expired"


def test_token_expiry_fault_expires_tokens_issued_before_it(api: ToyApi, clock: ManualClock) -> None:
    old_token = issued_token(api)
    clock.advance(60)
    assert api.add_fault(kind="token_expiry", start=isoformat(clock.now())).status_code == 201
    clock.advance(1)
    new_token = issued_token(api)

    old = api.client.get("/widgets", headers=bearer(old_token))
    static = api.get("/widgets")
    fresh = api.client.get("/widgets", headers=bearer(new_token))

    assert (old.status_code, old.get_json()["type"]) == (401, "https://firmsim.dev/problems/token-expired")
    assert static.status_code == 401
    assert fresh.status_code == 200


def test_token_expiry_counts_only_the_requests_it_refused(api: ToyApi, clock: ManualClock) -> None:
    api.add_fault(kind="token_expiry", start=isoformat(clock.now()))
    clock.advance(1)
    fresh = issued_token(api)

    api.get("/widgets")
    api.client.get("/widgets", headers=bearer(fresh))

    assert api.context.faults.injected["token_expiry"] == 1


def test_token_expiry_fault_needs_a_start(api: ToyApi) -> None:
    response = api.add_fault(kind="token_expiry")

    assert response.status_code == 400
    assert response.get_json()["field"] == "start"


@pytest.fixture
def limited(config: dict[str, Any]) -> dict[str, Any]:
    """Limit each caller to 1 request a second with bursts of 2."""
    config.update({"RATE_LIMIT": 1, "RATE_BURST": 2})
    return config


def test_rate_limit_is_429_with_retry_after_until_the_bucket_refills(limited: dict[str, Any], api: ToyApi,
                                                                    clock: ManualClock) -> None:
    statuses = [api.get("/widgets").status_code for _ in range(3)]
    limited_response = api.get("/widgets")
    clock.advance(1)
    refilled = api.get("/widgets")

    assert statuses == [200, 200, 429]
    assert limited_response.status_code == 429
    assert limited_response.headers["Retry-After"] == "1"
    assert limited_response.get_json()["type"] == "https://firmsim.dev/problems/rate-limited"
    assert refilled.status_code == 200


def test_rate_limit_is_per_caller(limited: dict[str, Any], api: ToyApi) -> None:
    for _ in range(3):
        api.get("/widgets")
    other_caller = issued_token(api)

    assert api.get("/widgets").status_code == 429
    assert api.client.get("/widgets", headers=bearer(other_caller)).status_code == 200


def test_rate_limited_write_changes_nothing(limited: dict[str, Any], api: ToyApi) -> None:
    api.get("/widgets")
    api.get("/widgets")

    response = api.create()

    assert response.status_code == 429
    assert api.widgets() == []

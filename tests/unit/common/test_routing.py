"""Direct routing of business requests: the same operation Flask's URL map picks, or Flask decides."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from simulators.common.app import context_of
from simulators.common.routing import OperationRouter
from simulators.common.spec import load_spec
from simulators.registry import SYSTEM_KINDS, create_system_app
from tests.unit.common.conftest import ToyApi


def _concrete(template: str) -> str:
    return re.sub(r"\{([A-Za-z0-9_]+)\}", lambda found: f"X-{found.group(1)}-000001", template)


@pytest.mark.parametrize("kind", SYSTEM_KINDS)
def test_every_operation_is_routed_to_the_operation_flask_would_pick(kind: str) -> None:
    app: Flask = create_system_app(kind, {})
    router = OperationRouter(context_of(app).spec)
    adapter = app.url_map.bind("localhost")
    routed = 0
    for operation in load_spec(kind).operations.values():
        path = _concrete(operation.path)
        endpoint, flask_args = adapter.match(path, method=operation.method)
        found = router.match(operation.method, path)
        if found is not None:
            routed += 1
            assert found == (endpoint, flask_args)
    assert routed == len(load_spec(kind).operations)


def test_requests_flask_must_decide_are_left_to_flask() -> None:
    router = OperationRouter(load_spec("psa"))

    assert router.match("PATCH", "/time-entries/bulk-approve") is None  # a literal path, another method: 405
    assert router.match("GET", "/projects/PRJ-000001/") is None  # trailing slash
    assert router.match("GET", "/projects//tasks") is None  # empty segment
    assert router.match("HEAD", "/projects/PRJ-000001") is None
    assert router.match("GET", "/projects/PRJ-é") is None  # non-ASCII: Werkzeug decodes it first
    assert router.match("GET", "/nothing-here/1") is None


def test_wrong_method_on_a_literal_path_is_still_405_with_its_own_methods() -> None:
    client = create_system_app("psa", {}).test_client()

    response = client.patch("/time-entries/bulk-approve", json={},
                            headers={"Authorization": "Bearer firmsim-dev-token"})

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"


def test_direct_and_flask_routed_answers_are_the_same(api: ToyApi) -> None:
    created = api.create("sprocket", {"Idempotency-Key": "k-1"})
    widget = f"/widgets/{created.get_json()['id']}"
    direct = api.client.get(widget, headers={"Authorization": "Bearer firmsim-dev-token"})
    through_flask = api.client.get(widget, headers={"Authorization": "Bearer firmsim-dev-token"},
                                   environ_overrides={"HTTP_TRANSFER_ENCODING": "identity"})

    assert (direct.status_code, direct.get_json()) == (through_flask.status_code, through_flask.get_json())
    assert dict(direct.headers) == dict(through_flask.headers)

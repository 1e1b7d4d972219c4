"""The spec's compiled validators: each sees every component its schema reaches, however deep."""

from __future__ import annotations

from typing import Any

from simulators.common.spec import KNOWN_VALID_LIMIT, ApiSpec, Parameter


def _spec_with_body(body_schema: dict[str, Any], schemas: dict[str, Any]) -> ApiSpec:
    document = {
        "openapi": "3.1.0",
        "paths": {"/things": {"post": {
            "operationId": "createThing",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body_schema}}},
            "responses": {"201": {"description": "created"}},
        }}},
        "components": {"schemas": schemas, "parameters": {"Unused": {"name": "x", "in": "query"}}},
    }
    return ApiSpec("toy", document)


def test_a_body_validator_enforces_a_component_reached_through_other_components() -> None:
    spec = _spec_with_body({"$ref": "#/components/schemas/Order"}, {
        "Order": {"type": "object", "properties": {"lines": {"type": "array",
                                                             "items": {"$ref": "#/components/schemas/Line"}}}},
        "Line": {"type": "object", "properties": {"amount": {"$ref": "#/components/schemas/Money"}}},
        "Money": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
        "Unrelated": {"type": "integer"},
    })
    validator = spec.operations["createThing"].body_validator

    assert validator.is_valid({"lines": [{"amount": "12.50"}]})
    assert not validator.is_valid({"lines": [{"amount": "12.5"}]})


def test_a_reference_into_a_component_keeps_the_whole_component() -> None:
    spec = _spec_with_body({"$ref": "#/components/schemas/Pair/properties/left"}, {
        "Pair": {"type": "object", "properties": {"left": {"$ref": "#/components/schemas/Code"}}},
        "Code": {"type": "string", "maxLength": 3},
    })
    validator = spec.operations["createThing"].body_validator

    assert validator.is_valid("abc")
    assert not validator.is_valid("abcd")


def _parameter(schema: dict[str, Any], location: str = "query") -> Parameter:
    document = {
        "openapi": "3.1.0",
        "paths": {"/things": {"get": {
            "operationId": "listThings",
            "parameters": [{"name": "p", "in": location, "required": location == "path", "schema": schema}],
            "responses": {"200": {"description": "ok"}},
        }}},
    }
    return ApiSpec("toy", document).operations["listThings"].parameters[0]


def test_a_parameter_remembers_only_values_that_passed_and_refuses_the_others_every_time() -> None:
    types = _parameter({"type": "array", "items": {"type": "string", "pattern": "^[a-z.]+$"}})

    assert types.passes(["psa.", "erp."]) and types.passes(["psa.", "erp."])
    assert not types.passes(["psa.", "ERP"]) and not types.passes(["psa.", "ERP"])
    assert types.known_valid == {("psa.", "erp.")}


def test_a_parameter_forgets_what_passed_once_it_holds_the_limit_and_still_validates() -> None:
    ids = _parameter({"type": "string", "pattern": "^W-[0-9]+$"}, "path")
    for number in range(KNOWN_VALID_LIMIT):
        assert ids.passes(f"W-{number}")

    assert ids.passes("W-next") is False
    assert ids.passes("W-999999")
    assert ids.known_valid == {"W-999999"}
    assert not ids.passes("X-1")

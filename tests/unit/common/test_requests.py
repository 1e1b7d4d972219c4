"""The request pipeline: validation, ownership, idempotency keys, If-Match and cursor pagination."""

from __future__ import annotations

import pytest

from tests.unit.common.conftest import ToyApi


def test_body_that_breaks_the_spec_is_400_naming_the_field(api: ToyApi) -> None:
    response = api.post("/widgets", {"name": "sprocket", "size": 11})

    problem = response.get_json()
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert problem["type"] == "https://firmsim.dev/problems/validation-error"
    assert problem["field"] == "body/size"
    assert api.widgets() == []


def test_malformed_json_is_400_not_500(api: ToyApi) -> None:
    response = api.client.post("/widgets", data=b"{not json", content_type="application/json",
                               headers={"Authorization": "Bearer firmsim-dev-token"})

    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


def test_path_id_that_cannot_exist_is_404_naming_the_parameter(api: ToyApi) -> None:
    response = api.get("/widgets/not-an-id")

    assert response.status_code == 404
    assert response.get_json()["field"] == "widget_id"


def test_attribute_owned_by_another_system_is_403_naming_the_owner(api: ToyApi) -> None:
    response = api.post("/widgets", {"name": "sprocket", "erp_number": "C-1001"})

    problem = response.get_json()
    assert response.status_code == 403
    assert (problem["type"], problem["owner"], problem["field"]) == (
        "https://firmsim.dev/problems/attribute-owned-elsewhere", "erp", "body/erp_number")


def test_unknown_route_and_method_are_problem_json(api: ToyApi) -> None:
    missing = api.get("/gadgets")
    wrong_method = api.client.delete("/widgets", headers={"Authorization": "Bearer firmsim-dev-token"})

    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")
    assert (wrong_method.status_code, wrong_method.mimetype) == (405, "application/problem+json")
    assert "GET" in wrong_method.headers["Allow"]


def test_same_idempotency_key_and_body_replays_the_first_response(api: ToyApi) -> None:
    first = api.create("sprocket", {"Idempotency-Key": "create-sprocket-1"})
    replay = api.create("sprocket", {"Idempotency-Key": "create-sprocket-1"})

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.get_json() == first.get_json()
    assert replay.headers["Location"] == first.headers["Location"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(api.widgets()) == 1
    assert len(api.context.feed) == 1


def test_same_idempotency_key_with_another_body_is_422_and_changes_nothing(api: ToyApi) -> None:
    api.create("sprocket", {"Idempotency-Key": "key-1"})

    response = api.create("gear", {"Idempotency-Key": "key-1"})

    assert response.status_code == 422
    assert response.get_json()["type"] == "https://firmsim.dev/problems/idempotency-key-reused"
    assert [widget["name"] for widget in api.widgets()] == ["sprocket"]


def test_different_idempotency_keys_create_different_records(api: ToyApi) -> None:
    api.create("sprocket", {"Idempotency-Key": "key-1"})
    api.create("sprocket", {"Idempotency-Key": "key-2"})

    assert len(api.widgets()) == 2


def test_retry_with_a_refreshed_token_still_gets_the_replay(api: ToyApi) -> None:
    token = api.post("/oauth/token", {"grant_type": "client_credentials", "client_id": "firmsim",
                                      "client_secret": "firmsim-secret"}).get_json()["access_token"]

    first = api.create("sprocket", {"Idempotency-Key": "shared-key"})
    retry = api.create("sprocket", {"Idempotency-Key": "shared-key", "Authorization": f"Bearer {token}"})

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert len(api.widgets()) == 1


def test_idempotency_keys_are_scoped_to_the_request_path(api: ToyApi) -> None:
    first = api.create("sprocket").get_json()
    second = api.create("gear").get_json()

    one = api.post(f"/widgets/{first['id']}/polish", headers={"Idempotency-Key": "polish"})
    other = api.post(f"/widgets/{second['id']}/polish", headers={"Idempotency-Key": "polish"})

    assert (one.status_code, other.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in other.headers
    assert [widget["status"] for widget in api.widgets()] == ["POLISHED", "POLISHED"]


def test_refused_request_is_not_stored_under_its_key(api: ToyApi) -> None:
    refused = api.post("/widgets", {"name": "sprocket", "size": 99}, {"Idempotency-Key": "key-1"})
    corrected = api.post("/widgets", {"name": "sprocket", "size": 9}, {"Idempotency-Key": "key-1"})

    assert (refused.status_code, corrected.status_code) == (400, 201)


def test_transition_with_the_current_etag_succeeds(api: ToyApi) -> None:
    widget = api.create().get_json()

    response = api.post(f"/widgets/{widget['id']}/polish", headers={"If-Match": '"1"'})

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'


def test_transition_with_a_stale_etag_is_412_and_changes_nothing(api: ToyApi) -> None:
    widget = api.create().get_json()

    response = api.post(f"/widgets/{widget['id']}/polish", headers={"If-Match": '"0"'})

    assert response.status_code == 412
    assert response.get_json()["current_etag"] == '"1"'
    assert api.widgets()[0]["status"] == "ROUGH"
    assert len(api.context.feed) == 1


def test_if_match_star_matches_any_version(api: ToyApi) -> None:
    widget = api.create().get_json()

    assert api.post(f"/widgets/{widget['id']}/polish", headers={"If-Match": "*"}).status_code == 200


def test_illegal_transition_is_409_with_the_current_status(api: ToyApi) -> None:
    widget = api.create().get_json()
    api.post(f"/widgets/{widget['id']}/polish")

    response = api.post(f"/widgets/{widget['id']}/polish")

    assert response.status_code == 409
    assert response.get_json()["current_status"] == "POLISHED"


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_cursor_pages_visit_every_record_once_in_id_order(api: ToyApi, limit: int) -> None:
    created = [api.create(f"widget {number}").get_json()["id"] for number in range(7)]

    seen: list[str] = []
    page = api.get(f"/widgets?limit={limit}").get_json()
    pages = 1
    seen += [widget["id"] for widget in page["items"]]
    while page["next_cursor"] is not None:
        page = api.get(f"/widgets?limit={limit}&cursor={page['next_cursor']}").get_json()
        pages += 1
        seen += [widget["id"] for widget in page["items"]]

    assert seen == created
    assert pages == -(-7 // limit)


def test_cursor_stays_valid_when_records_are_added_after_it(api: ToyApi) -> None:
    for number in range(3):
        api.create(f"widget {number}")
    page = api.get("/widgets?limit=2").get_json()
    api.create("late widget")

    rest = api.get(f"/widgets?limit=2&cursor={page['next_cursor']}").get_json()

    assert [widget["name"] for widget in rest["items"]] == ["widget 2", "late widget"]


def test_cursor_is_the_last_id_seen_so_any_id_resumes_after_it(api: ToyApi) -> None:
    for number in range(4):
        api.create(f"widget {number}")

    page = api.get("/widgets?cursor=WID-000002").get_json()
    past_the_end = api.get("/widgets?cursor=zz").get_json()

    assert [widget["id"] for widget in page["items"]] == ["WID-000003", "WID-000004"]
    assert past_the_end == {"items": [], "next_cursor": None}


def test_unknown_query_parameter_is_400_naming_it(api: ToyApi) -> None:
    response = api.get("/widgets?colour=red")

    assert response.status_code == 400
    assert response.get_json()["field"] == "colour"


def test_limit_out_of_bounds_is_400(api: ToyApi) -> None:
    assert api.get("/widgets?limit=0").status_code == 400
    assert api.get("/widgets?limit=501").status_code == 400
    assert api.get("/widgets?limit=ten").status_code == 400


def test_each_key_replays_its_own_first_answer_among_many_alike(api: ToyApi) -> None:
    firsts = [api.create(f"widget {number}", {"Idempotency-Key": f"create-{number}"}) for number in range(3)]

    replays = [api.create(f"widget {number}", {"Idempotency-Key": f"create-{number}"}) for number in range(3)]

    assert [(replay.headers["Location"], replay.headers["ETag"], replay.headers["Content-Type"], replay.get_json())
            for replay in replays] == [(first.headers["Location"], first.headers["ETag"],
                                        first.headers["Content-Type"], first.get_json()) for first in firsts]
    assert len(api.widgets()) == 3

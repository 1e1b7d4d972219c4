"""The lean in-process client sends what httpx would: the same query string, headers read by any spelling."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from syncengine.adapters.wsgi import WsgiHeaders, WsgiHttp, query_string


@pytest.mark.parametrize("params", [{"limit": 100, "after": "12"}, {"status": ["OPEN", "WON"], "flag": True},
                                    {"q": "a b&c/é", "none": None, "off": False}])
def test_query_strings_are_spelled_as_httpx_spells_them(params: dict[str, Any]) -> None:
    assert query_string(params) == httpx.URL("http://x/", params=params).query.decode()


def test_a_request_reaches_the_app_with_path_query_headers_and_body() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ, body=environ["wsgi.input"].read())
        start_response("201 CREATED", [("Content-Type", "application/json"), ("ETag", '"1"')])
        return [b'{"ok":', b"true}"]

    response = WsgiHttp(app, "http://erp").request("POST", "/items", params={"dry_run": True}, content=b"{}",
                                                   headers={"Content-Type": "application/json", "Idempotency-Key": "k"})
    assert (seen["PATH_INFO"], seen["QUERY_STRING"], seen["HTTP_IDEMPOTENCY_KEY"], seen["CONTENT_TYPE"],
            seen["body"]) == ("/items", "dry_run=true", "k", "application/json", b"{}")
    assert (response.status_code, response.content, response.headers.get("etag"), response.headers["ETAG"]) == (
        201, b'{"ok":true}', '"1"', '"1"')
    assert "Content-Type" in response.headers and isinstance(response.headers, WsgiHeaders)

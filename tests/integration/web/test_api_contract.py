"""The OpenAPI document of /api/v1 and the routes agree, and it is served without a key."""

from __future__ import annotations

import re

from flask import Flask

from nurture.web.api_openapi import openapi_document

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "patch", "delete"}


def _routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        # /api/v1/leads/<path:ref> -> /leads/{ref}, as OpenAPI writes path templates.
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method.lower(), path))
    return found


def _documented() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(method, path) for path, item in paths.items() for method in item if method in METHODS}


def test_every_route_is_documented_and_every_documented_operation_exists(app: Flask) -> None:
    routes, documented = _routes(app), _documented()
    assert routes - documented == set(), "routes missing from nurture/web/openapi.yaml"
    assert documented - routes == set(), "operations in nurture/web/openapi.yaml without a route"


def test_the_document_is_openapi_3_1_with_a_problem_for_every_error() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": PREFIX}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            # Every error answer is the problem details document (RFC 9457).
            assert operation["responses"]["default"] == {
                "$ref": "#/components/responses/Problem"
            }, (method, path)
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)


def test_the_document_is_served_as_json_without_a_key(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == openapi_document()
    # Only the document is public: every other operation asks for a key.
    assert response.json["paths"]["/openapi.json"]["get"]["security"] == []
    assert client.get("/api/v1/leads").status_code == 401

"""Every API error is an RFC 9457 problem details document, with the API's own members."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

import nurture.web.api as api
from nurture.web.errors import PROBLEM_JSON
from tests.integration.web.api_support import api_headers

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "error", "message"}


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    return api_headers(app)


def _assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert set(body) >= PROBLEM_MEMBERS
    assert body["type"] == "about:blank"
    assert body["status"] == status
    # detail is for people; message is the same text, kept for existing clients.
    assert body["detail"] == body["message"]
    return body


def test_a_missing_key_is_a_401_problem_with_the_reason_phrase_as_title(client) -> None:
    body = _assert_problem(client.get("/api/v1/leads"), 401)
    assert body["title"] == "Unauthorized"
    assert body["error"] == "unauthorized"


def test_a_validation_failure_keeps_its_per_field_errors(client, auth) -> None:
    body = _assert_problem(client.post("/api/v1/leads", json={"email": "nope"}, headers=auth), 422)
    assert body["title"] == "Unprocessable Entity"
    assert set(body["errors"]) == {"email"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/api/v1/leads/nobody@example.com", 404),
        ("DELETE", "/api/v1/leads", 405),
        ("GET", "/api/v1/leads/%00", 404),
    ],
)
def test_routing_and_lookup_errors_are_problems(client, auth, method, path, status) -> None:
    _assert_problem(client.open(path, method=method, headers=auth), status)


def test_hostile_bodies_are_problems(client, auth) -> None:
    body = _assert_problem(
        client.post(
            "/api/v1/leads", data="[" * 5000, headers=auth, content_type="application/json"
        ),
        400,
    )
    assert body["title"] == "Bad Request"


def test_an_unexpected_failure_is_a_500_problem_that_leaks_nothing(
    app: Flask,
    client,
    auth,
    monkeypatch,
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not re-raise

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "list_leads", broken)
    response = client.get("/api/v1/leads", headers=auth)
    body = _assert_problem(response, 500)
    assert body["title"] == "Internal Server Error"
    assert "secret" not in response.get_data(as_text=True)

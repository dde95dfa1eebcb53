"""JSON request bodies are checked against the OpenAPI document before the view runs: a body
of the wrong shape is a 422 problem naming each place, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from nurture.models import Cost, Lead, RevenueEntry, TrackingHit
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.web.api import bp
from nurture.web.api_input import check_api_request
from nurture.web.api_openapi import openapi_document
from nurture.web.api_validation import body_validators, check_request_body, operation_of
from nurture.web.errors import PROBLEM_JSON
from tests.integration.web.api_support import api_headers

# Operations whose body is not JSON (the raw RFC 822 message of a bounce).
NOT_JSON = {("post", "/bounces")}


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    return api_headers(app)


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    return app.extensions["nurture"]


def count(runtime: Runtime, model: type) -> int:
    with transaction(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _invalid(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.data[:300]
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["status"] == 422
    assert body["detail"] == body["message"]
    return body


# ---------------------------------------------------------------- every operation


def test_every_json_request_body_of_the_document_has_a_compiled_validator() -> None:
    with_body = {
        (method, path)
        for path, item in openapi_document()["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }
    assert with_body - NOT_JSON == set(body_validators())
    # Compiled once per process, not per request.
    assert body_validators() is body_validators()


def test_every_route_that_takes_a_body_is_checked(app: Flask) -> None:
    # A route added later with a body but no requestBody in the document would skip the
    # check: it fails here instead.
    validators = body_validators()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        for method in (rule.methods or set()) & {"POST", "PUT", "PATCH"}:
            operation = operation_of(rule.rule, method)
            assert operation in validators or operation in NOT_JSON, operation


def test_the_check_runs_for_every_api_request_after_the_hostile_input_check() -> None:
    hooks = bp.before_request_funcs[None]
    assert hooks.index(check_api_request) < hooks.index(check_request_body)


# ---------------------------------------------------------------- POST /leads


@pytest.mark.parametrize(
    ("lead", "pointer", "says"),
    [
        ({"email": 123}, "/email", "123 is not of type 'string'"),
        ({"first_name": "Jane"}, "/email", "a required field is missing"),
        ({"email": "jane@acme.com", "attributes": 3}, "/attributes", "is not of type"),
        ({"email": "jane@acme.com", "employees": True}, "/employees", "is not of type"),
    ],
)
def test_a_lead_of_the_wrong_shape_is_a_422_naming_the_field(
    client, auth, runtime, lead, pointer, says
) -> None:
    body = _invalid(client.post("/api/v1/leads", json=lead, headers=auth))
    assert set(body["errors"]) == {pointer}
    assert says in body["errors"][pointer]
    assert body["detail"].startswith(f"{pointer}: ")
    assert count(runtime, Lead) == 0


def test_every_misshapen_field_is_named_at_once(client, auth, runtime) -> None:
    lead = {"email": 1, "first_name": 2, "country": ["DE"]}
    body = _invalid(client.post("/api/v1/leads", json=lead, headers=auth))
    assert set(body["errors"]) == {"/email", "/first_name", "/country"}
    assert body["detail"].endswith("(and 2 more)")
    assert count(runtime, Lead) == 0


def test_what_the_schema_cannot_see_keeps_the_endpoints_answer(client, auth, runtime) -> None:
    # A well-shaped but invalid address: the endpoint's reason, under the field's name.
    body = _invalid(client.post("/api/v1/leads", json={"email": "jane@"}, headers=auth))
    assert set(body["errors"]) == {"email"}
    # Not an object or an array at all: the endpoint's 400 says what to send.
    response = client.post("/api/v1/leads", json="just a string", headers=auth)
    assert response.status_code == 400
    assert count(runtime, Lead) == 0


def test_a_well_shaped_lead_is_still_created(client, auth, runtime) -> None:
    response = client.post(
        "/api/v1/leads", json={"email": "jane@acme.com", "attributes": None}, headers=auth
    )
    assert response.status_code == 201, response.data[:300]
    bulk = client.post("/api/v1/leads", json=[{"email": "bob@acme.com"}, 7], headers=auth)
    # Bulk items are still checked one by one: the bad one is reported, the good one kept.
    assert bulk.status_code == 200
    assert (bulk.json["created"], bulk.json["invalid"]) == (1, 1)
    assert count(runtime, Lead) == 2


def test_without_a_valid_key_a_misshapen_body_is_still_a_401(client, runtime) -> None:
    response = client.post("/api/v1/leads", json={"email": 123})
    assert response.status_code == 401
    response = client.post(
        "/api/v1/leads", json={"email": 123}, headers={"Authorization": "Bearer nrt_x_y"}
    )
    assert response.status_code == 401


# ---------------------------------------------------------------- POST /events


@pytest.mark.parametrize(
    ("event", "pointer", "says"),
    [
        ({"type": "demo.requested", "email": 42}, "/email", "is not of type"),
        ({"email": "jane@acme.com"}, "/type", "a required field is missing"),
        ({"type": "bought.stuff", "email": "jane@acme.com"}, "/type", "is not one of"),
        ({"type": "page.viewed", "visitor_id": "v-12345678", "properties": []}, "/properties", ""),
    ],
)
def test_an_event_of_the_wrong_shape_is_a_422_naming_the_field(
    client, auth, runtime, event, pointer, says
) -> None:
    body = _invalid(client.post("/api/v1/events", json=event, headers=auth))
    assert set(body["errors"]) == {pointer}
    assert says in body["errors"][pointer]
    assert count(runtime, TrackingHit) == 0


def test_a_well_shaped_event_is_still_accepted(client, auth, runtime) -> None:
    for kind in ("demo.requested", "custom.video_watched"):
        response = client.post(
            "/api/v1/events", json={"type": kind, "email": "jane@acme.com"}, headers=auth
        )
        assert response.status_code == 202, response.data[:300]
    assert count(runtime, TrackingHit) == 2


# ---------------------------------------------------------------- PUT /costs, revenue


@pytest.mark.parametrize(
    ("cost", "pointer"),
    [
        ({"month": 202603, "source": "ads", "amount": 75}, "/month"),
        ({"month": "2026-03", "source": "ads", "amount": True}, "/amount"),
        ({"month": "2026-03", "source": ["ads"], "amount": 75}, "/source"),
    ],
)
def test_a_cost_of_the_wrong_shape_is_a_422_naming_the_field(
    client, auth, runtime, cost, pointer
) -> None:
    body = _invalid(client.put("/api/v1/costs", json=cost, headers=auth))
    assert set(body["errors"]) == {pointer}
    assert count(runtime, Cost) == 0


def test_a_well_shaped_cost_is_still_entered(client, auth, runtime) -> None:
    cost = {"month": "2026-03", "source": "ads", "amount": 75.5, "currency": "EUR"}
    response = client.put("/api/v1/costs", json=cost, headers=auth)
    assert response.status_code == 201, response.data[:300]
    # Meaning stays the endpoint's: a field a cost does not have is its 400.
    response = client.put("/api/v1/costs", json={**cost, "colour": "red"}, headers=auth)
    assert response.status_code == 400
    assert response.json["errors"] == {"colour": "not a field of a cost"}
    assert count(runtime, Cost) == 1


def test_revenue_without_its_required_fields_is_a_422_and_books_nothing(
    client, auth, runtime
) -> None:
    lead = client.post("/api/v1/leads", json={"email": "jane@acme.com"}, headers=auth).json
    url = f"/api/v1/accounts/{lead['account']['id']}/revenue"
    body = _invalid(client.post(url, json={"amount": "1200.00"}, headers=auth))
    assert set(body["errors"]) == {"/currency", "/booked_on"}
    assert count(runtime, RevenueEntry) == 0
    entry = {"amount": 1200, "currency": "EUR", "booked_on": "2026-03-01", "kind": None}
    response = client.post(url, json=entry, headers=auth)
    assert response.status_code == 201, response.data[:300]
    assert count(runtime, RevenueEntry) == 1


def test_an_enrolment_without_a_lead_is_a_422_naming_it(client, auth) -> None:
    body = _invalid(client.post("/api/v1/campaigns/x/enrollments", json={}, headers=auth))
    assert set(body["errors"]) == {"/lead"}

"""Every route of the app, walked from ``url_map``: nothing ships unguarded.

- Each page of the app is marked ``@requires(permission)`` or ``@public``.
- An anonymous visitor is sent to sign in from every guarded page, whatever the method.
- Every role without a page's permission gets 403 from it, and changes nothing.
- Every state-changing page refuses a request without a valid CSRF token.
- The parts that guard themselves do: the JSON API answers 401 without a key, the handoff
  pages and the unsubscribe pages refuse a forged link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from nurture.auth import roles
from nurture.models import AuditLog
from nurture.platform.db import transaction
from nurture.web.ui.render import NAVIGATION
from nurture.web.ui.security import ANY_ROLE
from tests.integration.web.ui_support import csrf_token, signed_in_client

# Guarded by other means than a signed-in session (checked below, each its own way).
SELF_GUARDED = ("api.", "handoffs.", "tracking.")
OPEN_BY_DESIGN = {"static", "healthz"}
CHANGING = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    endpoint: str
    url: str
    methods: tuple[str, ...]
    permission: str | None  # None: a public page

    def __str__(self) -> str:
        return f"{self.endpoint} {self.url}"


def _sample_value(rule: Rule, name: str) -> Any:
    # werkzeug keeps the converters private; their class tells an int from a string.
    return 1 if isinstance(rule._converters[name], NumberConverter) else "x"


def _routes(app: Flask) -> list[Route]:
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in OPEN_BY_DESIGN or rule.endpoint.startswith(SELF_GUARDED):
                continue
            view = app.view_functions[rule.endpoint]
            args = {name: _sample_value(rule, name) for name in rule.arguments}
            methods = tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
            permission = getattr(view, "required_permission", None)
            if permission is None and not getattr(view, "public", False):
                permission = "UNGUARDED"
            routes.append(Route(rule.endpoint, url_for(rule.endpoint, **args), methods, permission))
    return routes


@pytest.fixture
def routes(app: Flask) -> list[Route]:
    return _routes(app)


@pytest.fixture
def clients(app: Flask) -> Iterator[dict[str, FlaskClient]]:
    yield {role: signed_in_client(app, role) for role in roles.ROLES}


def _call(client: FlaskClient, method: str, url: str, token: str | None = None) -> Any:
    data = {"csrf_token": token} if token else {}
    return client.open(url, method=method, data=data)


def _audit_rows(app: Flask) -> int:
    with transaction(app.extensions["nurture"].sessions) as session:
        return session.query(AuditLog).count()


def test_every_page_is_guarded_or_marked_public(routes: list[Route]) -> None:
    unguarded = [str(route) for route in routes if route.permission == "UNGUARDED"]
    assert not unguarded, "views with neither @requires nor @public:\n" + "\n".join(unguarded)
    public = {route.endpoint for route in routes if route.permission is None}
    # Sign-in and password pages, and the brand's stylesheet and logo that they show.
    assert public == {
        "ui_account.login",
        "ui_account.forgot",
        "ui_account.set_password",
        "ui_settings.brand_css",
        "ui_settings.logo",
    }


def test_every_navigation_entry_is_a_guarded_page(app: Flask, routes: list[Route]) -> None:
    by_endpoint = {route.endpoint: route for route in routes}
    for item in NAVIGATION:
        if item.endpoint in app.view_functions:
            assert by_endpoint[item.endpoint].permission == item.permission, item.endpoint


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_guarded_page(
    app: Flask, routes: list[Route]
) -> None:
    client = app.test_client()
    token = csrf_token(client)
    failures = []
    for route in routes:
        if route.permission is None:
            continue
        for method in route.methods:
            response = _call(client, method, route.url, token)
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.startswith("/login?next="):
                failures.append(f"{method} {route}: {response.status_code} {location}")
    assert not failures, "\n".join(failures)


def test_every_role_without_the_permission_is_refused_and_changes_nothing(
    app: Flask, routes: list[Route], clients: dict[str, FlaskClient]
) -> None:
    guarded = [route for route in routes if route.permission not in (None, ANY_ROLE)]
    assert guarded, "no page needs a permission: the walk found nothing to check"
    before = _audit_rows(app)
    failures = []
    checked = 0
    for role, client in clients.items():
        token = csrf_token(client, "/account")
        for route in guarded:
            if roles.may(role, route.permission or ""):
                continue
            for method in route.methods:
                checked += 1
                response = _call(client, method, route.url, token)
                if response.status_code != 403:
                    failures.append(f"{role}: {method} {route} answered {response.status_code}")
                elif "Not allowed" not in response.get_data(as_text=True):
                    failures.append(f"{role}: {method} {route} 403 is not the app's page")
    assert not failures, "\n".join(failures)
    assert checked > 0
    # A refused change is not a change: no audit row was written for any of them.
    assert _audit_rows(app) == before


def test_every_role_with_the_permission_gets_past_the_guard(
    routes: list[Route], clients: dict[str, FlaskClient]
) -> None:
    failures = []
    for role, client in clients.items():
        for route in routes:
            if "GET" not in route.methods or route.permission is None:
                continue
            if route.permission != ANY_ROLE and not roles.may(role, route.permission):
                continue
            response = client.get(route.url)
            # The sample ids name nothing, so 404 is a fine answer; 403 or a sign-in is not.
            to_sign_in = response.headers.get("Location", "").startswith("/login")
            if response.status_code == 403 or to_sign_in:
                failures.append(f"{role}: GET {route} answered {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("token", [None, "forged-token", "expired"], ids=["none", "forged", "old"])
def test_every_state_changing_page_refuses_a_request_without_a_valid_csrf_token(
    app: Flask, routes: list[Route], clients: dict[str, FlaskClient], token: str | None
) -> None:
    admin = clients["admin"]
    if token == "expired":
        # A real token of another session is as good as none for this one.
        token = csrf_token(app.test_client())
    before = _audit_rows(app)
    changing = [
        (route, method) for route in routes for method in route.methods if method in CHANGING
    ]
    assert changing, "no state-changing page found"
    failures = []
    for route, method in changing:
        response = _call(admin, method, route.url, token)
        body = response.get_data(as_text=True)
        if response.status_code != 400 or "The form has expired" not in body:
            failures.append(f"{method} {route} answered {response.status_code}")
    assert not failures, "\n".join(failures)
    assert _audit_rows(app) == before
    # Still signed in: the refusal did not end the session.
    assert admin.get("/account").status_code == 200


def test_the_json_api_answers_401_to_every_route_without_a_key(app: Flask) -> None:
    client = app.test_client()
    failures = []
    with app.test_request_context():
        targets = [
            (rule, url_for(rule.endpoint, **{n: _sample_value(rule, n) for n in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.")
            # Marked public: only the API's OpenAPI document (tested in test_api_contract).
            and not getattr(app.view_functions[rule.endpoint], "public", False)
        ]
    assert targets
    public_api = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        and getattr(app.view_functions[rule.endpoint], "public", False)
    ]
    assert public_api == ["/api/v1/openapi.json"]
    for rule, url in targets:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={})
            if response.status_code != 401:
                failures.append(f"{method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_signed_link_pages_refuse_a_forged_link(app: Flask) -> None:
    client = app.test_client()
    failures = []
    with app.test_request_context():
        targets = [
            (rule, url_for(rule.endpoint, **{n: "forged.link" for n in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith(("handoffs.", "tracking.unsubscribe."))
        ]
    assert targets
    for rule, url in targets:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            if not 400 <= response.status_code < 500:
                failures.append(f"{method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)

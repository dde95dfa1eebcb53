"""Signing in and out, forgotten passwords, set-password links and sessions that end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nurture.auth import users
from nurture.models import AuditLog, OutboxMessage
from nurture.platform.config import Settings
from nurture.platform.db import transaction, utcnow
from nurture.web import create_app
from tests.integration.web.ui_support import PASSWORD, csrf_token, make_user, sign_in

NEW_PASSWORD = "a much longer passphrase 2026"
WRONG = "The email or password is not right."


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def _outbox(app: Flask) -> list[OutboxMessage]:
    with transaction(app.extensions["nurture"].sessions) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return rows


def _link_in(message: OutboxMessage) -> str:
    mail = message_from_bytes(message.raw, policy=policy.default)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"http://nurture\.test(/password/set/\S+)", body.get_content())
    assert match, body.get_content()
    return match.group(1)


def test_a_wrong_password_and_an_unknown_address_fail_the_same_way(
    app: Flask, client: FlaskClient
) -> None:
    email = make_user(app, "marketer")

    wrong = sign_in(client, email, "not the password")
    unknown = sign_in(client, "nobody@example.com", PASSWORD)

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert WRONG in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_signing_in_lands_on_the_page_asked_for_but_never_on_another_site(
    app: Flask, client: FlaskClient
) -> None:
    email = make_user(app, "marketer")
    token = csrf_token(client)
    form = {"email": email, "password": PASSWORD, "csrf_token": token}

    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        response = client.post("/login", query_string={"next": target}, data=form)
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
        token = csrf_token(client)
        form["csrf_token"] = token

    response = client.post("/login", query_string={"next": "/account?tab=password"}, data=form)
    assert response.headers["Location"] == "/account?tab=password"


@pytest.mark.parametrize("target", ["/\t/evil.example/x", "/\n/evil.example", "/\r\n/x", "/ /x"])
def test_a_next_page_with_control_characters_never_leaves_the_site(
    app: Flask, client: FlaskClient, target: str
) -> None:
    # Browsers drop tabs and newlines from a URL, so "/<tab>/evil.example" is "//evil.example".
    email = make_user(app, "marketer")
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}

    response = client.post("/login", query_string={"next": target}, data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # Already signed in: the sign-in page sends on at once, as safely.
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_each_role_lands_where_it_can_work(app: Flask, client: FlaskClient) -> None:
    email = make_user(app, "sales")
    response = sign_in(client, email)
    target = response.headers["Location"]
    # Sales has no overview: it lands on its inbox (or its account page), never on a 403.
    assert client.get(target).status_code == 200


@pytest.fixture
def strict_app(settings: Settings) -> Iterator[Flask]:
    app = create_app({"NURTURE_SETTINGS": settings.with_overrides(login_rate_limit="3 per minute")})
    yield app
    app.extensions["nurture"].close()


def test_failed_sign_ins_are_rate_limited_per_address_and_successes_are_not_counted(
    strict_app: Flask,
) -> None:
    client = strict_app.test_client()
    email = make_user(strict_app, "viewer")
    for _ in range(3):
        assert sign_in(client, email).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    for _ in range(3):
        assert sign_in(client, email, "guess").status_code == 401
    blocked = sign_in(client, email)  # even the right password waits now

    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert blocked.headers["Retry-After"]
    assert not _signed_in(client)


def test_a_reset_link_by_email_sets_a_new_password_once(app: Flask, client: FlaskClient) -> None:
    email = make_user(app, "marketer")
    token = csrf_token(client, "/password/forgot")

    for address in (email, "nobody@example.com"):
        response = client.post("/password/forgot", data={"email": address, "csrf_token": token})
        assert response.status_code == 302
        assert "on its way" in client.get("/login").get_data(as_text=True)

    sent = _outbox(app)
    assert [message.to_address for message in sent] == [email]  # no mail to strangers
    link = _link_in(sent[0])

    page = client.get(link)
    assert page.status_code == 200 and email in page.get_data(as_text=True)
    weak = client.post(
        link, data={"password": "short", "confirm": "short", "csrf_token": csrf_token(client, link)}
    )
    assert weak.status_code == 200 and 'class="error"' in weak.get_data(as_text=True)
    done = client.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, link),
        },
    )
    assert done.status_code == 302

    assert sign_in(client, email, PASSWORD).status_code == 401
    assert sign_in(client, email, NEW_PASSWORD).status_code == 302
    # The link did its job: it is spent (the password it was made for has changed).
    again = app.test_client().get(link)
    assert again.status_code == 404
    assert "no longer valid" in again.get_data(as_text=True) or "expired" in again.get_data(
        as_text=True
    )


def test_a_tampered_link_is_refused(app: Flask, client: FlaskClient) -> None:
    make_user(app, "marketer")
    client.post(
        "/password/forgot",
        data={
            "email": "marketer@example.com",
            "csrf_token": csrf_token(client, "/password/forgot"),
        },
    )
    link = _link_in(_outbox(app)[0])
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")

    assert client.get(tampered).status_code == 404
    assert client.get("/password/set/%00").status_code == 404
    assert client.get("/password/set/" + "x" * 5000).status_code == 404


def test_changing_ones_password_signs_out_every_other_session(app: Flask) -> None:
    email = make_user(app, "marketer")
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, email)
    sign_in(elsewhere, email)

    response = here.post(
        "/account",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(here, "/account"),
        },
    )

    assert response.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(elsewhere)
    with transaction(app.extensions["nurture"].sessions) as session:
        actions = list(
            session.scalars(select(AuditLog.action).where(AuditLog.actor.like("user:%")))
        )
    assert "app.ui_account.account" in actions


def test_a_wrong_current_password_changes_nothing(app: Flask, client: FlaskClient) -> None:
    email = make_user(app, "marketer")
    sign_in(client, email)

    response = client.post(
        "/account",
        data={
            "current": "not it",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/account"),
        },
    )

    assert response.status_code == 422
    assert "This is not your current password." in response.get_data(as_text=True)
    other = app.test_client()
    assert sign_in(other, email, PASSWORD).status_code == 302


def test_disabling_an_account_ends_its_sessions_at_once(app: Flask, client: FlaskClient) -> None:
    make_user(app, "admin", "boss@example.com")
    email = make_user(app, "marketer")
    sign_in(client, email)
    assert _signed_in(client)

    with transaction(app.extensions["nurture"].sessions) as session:
        users.disable_user(session, email, actor="test", now=utcnow())

    assert not _signed_in(client)
    assert sign_in(client, email).status_code == 401


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_https(
    settings: Settings,
) -> None:
    app = create_app({"NURTURE_SETTINGS": settings.with_overrides(public_url="https://n.example")})
    try:
        client = app.test_client()
        email = make_user(app, "viewer")
        cookie = sign_in(client, email).headers["Set-Cookie"]
    finally:
        app.extensions["nurture"].close()

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_pages_carry_a_content_security_policy_and_are_never_cached(client: FlaskClient) -> None:
    response = client.get("/login")

    policy_header = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy_header
    assert "'unsafe-inline'" not in policy_header
    assert "frame-ancestors 'self'" in policy_header
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

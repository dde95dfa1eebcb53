"""One's language on the account page: the app speaks it from then on, whatever the
browser says, and the emails Nurture writes to the person follow it."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from nurture.models import User
from tests.integration.web.ui_support import csrf_token, signed_in_client


def test_choosing_polish_turns_the_app_polish_and_back(app):
    client = signed_in_client(app, "marketer", "ola@example.com")
    english = {"Accept-Language": "en"}
    assert '<html lang="en">' in client.get("/account", headers=english).text

    saved = client.post(
        "/account/language",
        data={"locale": "pl", "csrf_token": csrf_token(client, "/account")},
        headers=english,
        follow_redirects=True,
    )

    assert '<html lang="pl">' in saved.text
    assert "Twój język został zapisany." in saved.text and "Twoje konto" in saved.text
    with app.extensions["nurture"].sessions() as session:
        user = session.scalars(select(User).where(User.email == "ola@example.com")).one()
        assert user.locale == "pl"

    back = client.post(
        "/account/language",
        data={"locale": "", "csrf_token": csrf_token(client, "/account")},
        headers=english,
        follow_redirects=True,
    )
    assert '<html lang="en">' in back.text and "Your account" in back.text


def test_a_language_the_app_does_not_offer_is_refused(app):
    client = signed_in_client(app, "viewer", "vic@example.com")

    client.post(
        "/account/language",
        data={"locale": "xx", "csrf_token": csrf_token(client, "/account")},
    )

    with app.extensions["nurture"].sessions() as session:
        user = session.scalars(select(User).where(User.email == "vic@example.com")).one()
        assert user.locale is None


def test_every_page_renders_in_polish(app):
    # A translation whose placeholders do not fit its message fails only when the page
    # renders: every page without arguments, read in Polish.
    admin = signed_in_client(app, "admin", "ada@example.com")
    with app.test_request_context():
        pages = sorted(
            url_for(rule.endpoint)
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("ui_")
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and rule.endpoint not in {"ui_settings.brand_css", "ui_settings.logo"}
        )
    assert "/" in pages
    for path in pages:
        response = admin.get(path, headers={"Accept-Language": "pl"})
        response.close()
        # Signed in, the sign-in pages send one home; every other page answers.
        assert response.status_code in (
            (200, 302) if "password" in path or path == "/login" else (200,)
        ), path
    home = admin.get("/", headers={"Accept-Language": "pl"}).text
    assert '<html lang="pl">' in home and "Wyloguj się" in home

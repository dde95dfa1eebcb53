"""One's language on the account page: the app speaks it from then on, whatever the
browser says, and the emails Nurture writes to the person follow it."""

from __future__ import annotations

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

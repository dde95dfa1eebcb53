"""The pages a lead reaches from an email speak the lead's language: the lead's own locale
when the link names the lead, the browser's preference otherwise, and ``<html lang>`` says
which."""

from __future__ import annotations

import re

import pytest

from tests.integration.engine_support import T0, add_lead
from tests.integration.privacy_support import (
    csrf_of,
    enrol_in_both,
    first_message,
    signed_path,
    sync_topic_campaigns,
    tick,
)


@pytest.fixture
def topics(runtime):
    sync_topic_campaigns(runtime)
    return runtime


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, "the page has no <html lang>"
    return found.group(1)


def test_a_polish_leads_unsubscribe_page_is_in_polish(topics, client):
    lead_id = add_lead(topics, "jan@firma.example", locale="pl-PL")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)
    path = signed_path(topics, first_message(topics, lead_id))

    # The browser asks for English; the lead's own language wins.
    page = client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})

    assert page.status_code == 200
    assert _lang(page.text) == "pl"
    assert page.headers["Content-Language"] == "pl"
    assert "Wypisz mnie" in page.text and "Unsubscribe me" not in page.text
    done = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "Wypisano Cię" in done.text


def test_a_polish_leads_preferences_page_is_in_polish(topics, client):
    lead_id = add_lead(topics, "ola@firma.example", locale="pl")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)

    page = client.get(signed_path(topics, first_message(topics, lead_id), "/preferences"))

    assert _lang(page.text) == "pl"
    assert "Twoje ustawienia wiadomości" in page.text
    assert "Zapisz ustawienia" in page.text and "Save preferences" not in page.text


def test_a_lead_without_a_language_gets_english_whatever_is_shipped(topics, client):
    lead_id = add_lead(topics, "ann@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)

    page = client.get(signed_path(topics, first_message(topics, lead_id)))

    assert _lang(page.text) == "en" and "Unsubscribe me" in page.text


def test_an_unknown_link_follows_the_browsers_language(client):
    polish = client.get("/u/not-a-token", headers={"Accept-Language": "pl,en;q=0.5"})
    german = client.get("/u/not-a-token", headers={"Accept-Language": "de"})

    assert polish.status_code == 404 and _lang(polish.text) == "pl"
    assert "Ten link jest nieprawidłowy" in polish.text
    # Nobody translated German: English, not a half-translated page.
    assert _lang(german.text) == "en" and "This link is not valid" in german.text

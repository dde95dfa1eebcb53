"""Unsubscribe through the real endpoints: RFC 8058 one-click, the confirm page, link
scanners, tampered tokens, and suppression across campaigns."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from nurture.consent.rules import is_mailable
from nurture.tracking.tokens import MessageSigner
from tests.integration.engine_support import T0, add_lead
from tests.integration.privacy_support import (
    audit_actions,
    csrf_of,
    enrol_in_both,
    first_message,
    lead,
    path_of,
    sent_campaigns,
    signed_path,
    sync_topic_campaigns,
    tick,
)


@pytest.fixture
def topics(runtime):
    sync_topic_campaigns(runtime)
    return runtime


def test_one_click_post_from_the_delivered_headers_unsubscribes_from_every_campaign(
    topics, client, smtp_sink
):
    lead_id = add_lead(topics, "ada@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0, smtp_url=smtp_sink.url)
    assert len(smtp_sink.received) == 2
    for email in smtp_sink.received:
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = re.findall(r"<([^>]+)>", email["List-Unsubscribe"])
        assert https.startswith("http://nurture.test/u/") and mailto.startswith("mailto:")
    https = re.findall(r"<([^>]+)>", smtp_sink.received[0]["List-Unsubscribe"])[0]

    # What Gmail and Yahoo send: a POST with this body, no cookie, no CSRF token.
    response = client.post(path_of(https), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert not is_mailable(lead(topics, lead_id))
    assert audit_actions(topics, lead_id) == ["suppression.added"]
    tick(topics, T0 + timedelta(days=3), smtp_url=smtp_sink.url)
    assert len(smtp_sink.received) == 2  # nothing from either campaign afterwards


def test_one_click_twice_is_harmless(topics, client):
    lead_id = add_lead(topics, "twice@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)
    path = signed_path(topics, first_message(topics, lead_id))
    for _ in range(2):
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert audit_actions(topics, lead_id) == ["suppression.added"]


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("suffix", ["", "/preferences"])
def test_get_and_head_never_unsubscribe(topics, client, method, suffix):
    lead_id = add_lead(topics, "scanned@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)
    path = signed_path(topics, first_message(topics, lead_id), suffix)
    for _ in range(3):  # a link scanner opening the URL again and again
        assert getattr(client, method)(path).status_code == 200
    assert is_mailable(lead(topics, lead_id))
    assert audit_actions(topics, lead_id) == []
    tick(topics, T0 + timedelta(days=1, minutes=1))
    assert sent_campaigns(topics, lead_id).count("news") == 2


def test_the_page_unsubscribes_only_with_its_form_token(topics, client):
    lead_id = add_lead(topics, "page@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)
    path = signed_path(topics, first_message(topics, lead_id))
    page = client.get(path)
    assert page.headers["Cache-Control"] == "no-store"
    assert "Unsubscribe me" in page.text

    forged = client.post(path, data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert is_mailable(lead(topics, lead_id))

    done = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert not is_mailable(lead(topics, lead_id))


@pytest.mark.parametrize(
    "path",
    [
        "/u/not-a-token",
        "/u/AAAAAAAAAAAAAAAAAAAAAA.forgedsignature",
        "/u/AAAAAAAAAAAAAAAAAAAAAA.forgedsignature/preferences",
        "/u/AAAAAAAAAAAAAAAAAAAAAA.forgedsignature/confirm",
    ],
)
def test_tampered_tokens_get_a_clear_page_and_change_nothing(topics, client, path):
    lead_id = add_lead(topics, "victim@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)
    real = signed_path(topics, first_message(topics, lead_id))
    tampered = real[:-3] + ("aaa" if not real.endswith("aaa") else "bbb")
    for target in (path, tampered):
        response = client.post(target, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code in (404, 405)
        page = client.get(target)
        assert page.status_code == 404 and "not valid" in page.text
    assert is_mailable(lead(topics, lead_id))


def test_a_validly_signed_token_of_no_message_changes_nothing(topics, client):
    signed = MessageSigner(topics.settings.secret_key).sign("no-such-message-token")
    response = client.post(f"/u/{signed}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404 and "not valid" in response.text


def test_pages_escape_what_they_show_and_load_no_external_assets(topics, client):
    lead_id = add_lead(topics, "esc@acme.example")
    enrol_in_both(topics, lead_id)
    tick(topics, T0)
    page = client.get(signed_path(topics, first_message(topics, lead_id), "/preferences"))
    assert "http://" not in page.text and "https://" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

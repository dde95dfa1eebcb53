"""A handoff's emails and pages in their reader's language: the hand-raiser's auto-reply in
the lead's, the rep's notification and accept/reject pages in the rep's own (a user's
locale), English for whoever has none."""

from __future__ import annotations

import re
from datetime import timedelta

from nurture.models import User
from nurture.platform.db import transaction
from tests.integration.engine_support import add_lead
from tests.integration.handoff.test_handoff_e2e import e2e, html_of, text_of, tick
from tests.integration.handoff_support import add_account, owner_email, qualify

__all__ = ["e2e"]  # the fixture, shared with the end-to-end handoff tests


def _polish_hand_raiser(runtime, now) -> int:
    account = add_account(
        runtime, "hurtownia.example", name="Hurtownia Kowalski", country="PL",
        employees=800, industry="Logistics",
    )  # fmt: skip
    return add_lead(
        runtime, "jan@hurtownia.example", first_name="Jan", last_name="Kowalski",
        title="Dyrektor operacyjny", timezone="Europe/Warsaw", locale="pl-PL",
        account_id=account, source="webinar", hand_raised_at=now - timedelta(minutes=5),
    )  # fmt: skip


def test_a_polish_hand_raisers_auto_reply_is_in_polish(e2e, smtp_sink):
    runtime, _, _, now = e2e
    jan = _polish_hand_raiser(runtime, now)

    handoff_id = qualify(runtime, jan, now, rule="hand-raiser-good-fit", reasons=("demo",))
    tick(runtime, now + timedelta(seconds=1))

    by_recipient = {message["To"]: message for message in smtp_sink.received}
    reply = by_recipient["jan@hurtownia.example"]
    assert reply["Subject"].startswith("Dziękujemy, Jan:")
    assert "Dziękujemy za kontakt" in text_of(reply)
    assert "Thank you for getting in touch" not in text_of(reply)
    # When the rep will call is Polish too, not an English phrase in a Polish sentence.
    assert "skontaktuje się z Tobą" in text_of(reply)
    assert not re.search(r"within the hour|today from|on \w+day from", text_of(reply))
    assert re.search(r'<html lang="pl"', html_of(reply))
    assert "Wypisz się" in html_of(reply)  # the footer too
    # The rep has no language of their own: the notification stays in English.
    notification = by_recipient[owner_email(runtime, handoff_id)]
    assert "a lead is ready for you" in text_of(notification)
    assert re.search(r'<html lang="en"', html_of(notification))


def test_a_rep_who_reads_polish_gets_the_notification_and_pages_in_polish(e2e, smtp_sink):
    runtime, client, _, now = e2e
    jan = _polish_hand_raiser(runtime, now)
    handoff_id = qualify(runtime, jan, now, rule="hand-raiser-good-fit", reasons=("demo",))
    rep = owner_email(runtime, handoff_id)
    with transaction(runtime.sessions) as session:
        session.add(User(email=rep, name="Rep", role="sales", locale="pl"))

    tick(runtime, now + timedelta(seconds=1))

    notification = next(m for m in smtp_sink.received if m["To"] == rep)
    assert "masz nowego leada" in text_of(notification)
    assert "a lead is ready for you" not in text_of(notification)
    assert re.search(r'<html lang="pl"', html_of(notification))
    accept_url = re.search(r"(/handoffs/[^/\s\"]+)/accept", html_of(notification)).group(0)
    # The rep's browser says English; the rep's own setting wins.
    page = client.get(accept_url, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<html lang="pl">' in page.text and "Przyjąć tego leada?" in page.text
    assert "Accept this lead?" not in page.text

"""A 5xx from the SMTP server while sending is judged by the bounce rules: a mailbox that
does not exist suppresses the lead at once and stops its steps; a refusal that blames the
sender holds the message back and is reported, and the lead is not blamed."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.models import AuditLog, Event, Lead
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    enrollment,
    messages_for,
    templates_sent,
)
from tests.integration.web.ui_support import signed_in_client


@pytest.fixture
def engine(drip, smtp_sink):
    sending = Runtime.from_settings(drip.settings.with_overrides(smtp_url=smtp_sink.url))
    engine = Engine(sending)
    try:
        yield engine
    finally:
        engine.close()
        sending.close()


def lead_row(runtime, lead_id) -> Lead:
    with runtime.sessions() as session:
        return session.get(Lead, lead_id)


def test_a_mailbox_refused_at_rcpt_suppresses_the_lead_at_once_and_its_steps_stop(
    drip, smtp_sink, engine
):
    ghost = add_lead(drip, "ghost@acme.example")
    ada = add_lead(drip, "ada@acme.example")
    ghost_enrolment = enrol(drip, ghost)
    enrol(drip, ada)
    smtp_sink.refuse_rcpt["ghost@acme.example"] = (
        "550 5.1.1 <ghost@acme.example>: Recipient address rejected: User unknown"
    )

    report = engine.tick(T0)

    assert (report.sent, report.failed, report.hard_bounced) == (1, 1, 1)
    assert [to for _, (to,) in smtp_sink.envelopes] == ["ada@acme.example"]
    [message] = messages_for(drip, ghost)
    assert (message.status, message.smtp_code) == ("failed", 550)
    lead = lead_row(drip, ghost)
    assert lead.suppression_reason == "hard_bounce" and lead.suppressed_at == T0
    with drip.sessions() as session:
        failed = session.scalar(select(Event).where(Event.lead_id == ghost))
        audit = session.scalar(
            select(AuditLog).where(
                AuditLog.lead_id == ghost, AuditLog.action == "suppression.added"
            )
        )
    assert failed.type == "email.failed"
    assert (failed.properties["decision"], failed.properties["reason"]) == (
        "suppress",
        "userunknown",
    )
    assert audit.detail["source"] == "smtp" and audit.detail["command"] == "RCPT"

    # Weeks later nothing more was tried for the ghost; the other lead's drip goes on.
    for day in range(1, 15):
        engine.tick(T0 + timedelta(days=day))
    assert len(messages_for(drip, ghost)) == 1
    assert enrollment(drip, ghost_enrolment).status == "exited"
    assert len(templates_sent(drip, ada)) > 1
    assert "ghost@acme.example" not in [to for _, (to,) in smtp_sink.envelopes]


def test_a_mailbox_refused_after_the_data_suppresses_the_lead_too(drip, smtp_sink, engine):
    ghost = add_lead(drip, "gone@acme.example")
    enrol(drip, ghost)
    smtp_sink.fail_next.append("550 5.1.1 <gone@acme.example>: no such user here")

    assert engine.tick(T0).hard_bounced == 1

    assert lead_row(drip, ghost).suppression_reason == "hard_bounce"


@pytest.mark.parametrize(
    "refusal",
    [
        "550 5.5.0 Adresse destinataire invalide. Invalid recipient.",
        "550 Invalid final delivery userid",
        "554 delivery error: dd This user doesn't have a acme.example account",
        "550 Requested action not taken: mailbox unavailable",
    ],
)
def test_every_mailbox_does_not_exist_wording_at_rcpt_suppresses_the_lead(
    drip, smtp_sink, engine, refusal
):
    # The same wordings a bounce report is judged by (tests/unit/sending/
    # test_bounce_wordings.py), answered at RCPT while we send.
    ghost = add_lead(drip, "ghost@acme.example")
    enrol(drip, ghost)
    smtp_sink.refuse_rcpt["ghost@acme.example"] = refusal

    assert engine.tick(T0).hard_bounced == 1

    assert lead_row(drip, ghost).suppression_reason == "hard_bounce"


@pytest.mark.parametrize(
    "refusal",
    [
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "550 domain mismatches client ip",
        "550 5.7.26 Unauthenticated email from acme.example is not accepted due to DMARC",
        "550 5.7.1 Our system has detected an unusual rate of mail from your IP: try later",
    ],
)
def test_a_refusal_that_blames_the_sender_holds_the_message_back_and_does_not_blame_the_lead(
    drip, smtp_sink, engine, caplog, app, refusal
):
    lead = add_lead(drip, "fine@acme.example")
    enrol(drip, lead)
    smtp_sink.fail_next.append(refusal)

    with caplog.at_level(logging.WARNING, logger="nurture.sending.record"):
        report = engine.tick(T0)

    assert (report.refused_sender, report.deferred, report.failed) == (1, 1, 0)
    assert "refused because of the sender" in str(report)
    assert any("the lead is not at fault" in r.getMessage() for r in caplog.records)
    [message] = messages_for(drip, lead)
    assert message.status == "deferred"
    assert lead_row(drip, lead).suppressed_at is None
    home = signed_in_client(app, "viewer")
    page = home.get("/").get_data(as_text=True)
    assert "Receiving servers refuse our mail" in page and "1 emails are held back" in page
    assert refusal.split(" ", 2)[2][:30] in page

    # Once the operator has fixed what the receiver complained about, it goes out.
    assert engine.tick(message.next_attempt_at).sent == 1
    assert templates_sent(drip, lead) == ["welcome-guide"]
    assert "Receiving servers refuse our mail" not in home.get("/").get_data(as_text=True)

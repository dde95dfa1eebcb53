"""The home page's figures: the emails sent in a period and what people did with them, from
a campaign the engine ran (a person's open and click, a machine's open, an unsubscribe), a
bounce and a complaint as providers report them, and a rep's notification left out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from nurture.handoff.sla import run_due
from nurture.models import Message
from nurture.platform.db import transaction, utcnow
from nurture.reports.glance import figures, glance
from nurture.sending.bounces.apply import ingest_file
from tests.integration.bounce_support import arf, dsn
from tests.integration.campaign_figures_support import build_story
from tests.integration.engine_support import T0
from tests.integration.sales_support import ANN, BEN, clock, hand_off_to, sync_sales_team


def _ingest(runtime, raw):
    result = ingest_file(runtime.sessions, raw, label="report.eml", soft_bounce_limit=3)
    assert result.state == "applied", result.note


def test_the_week_counts_emails_to_leads_and_what_people_did_with_them(app):
    story = build_story(app)
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        cat = session.scalars(select(Message).where(Message.lead_id == story.cat)).all()
        ada = session.scalar(select(Message).where(Message.lead_id == story.ada))
        # A rep's notification about a lead is not an email the lead got.
        session.add(
            Message(
                lead_id=story.ada,
                kind="handoff",
                template="handoff",
                to_address="rep@brightpath.example",
                message_id="n1@brightpath.example",
                token="n" * 32,
                status="sent",
                sent_at=story.start,
            )
        )
        cat_token, cat_address, ada_token = cat[0].token, cat[0].to_address, ada.token
    _ingest(runtime, dsn(cat_address, "5.1.1", "550 5.1.1 no such user", token=cat_token))
    _ingest(runtime, arf(token=ada_token))

    with transaction(runtime.sessions) as session:
        week = glance(session, runtime.settings, utcnow()).week
        before = figures(session, story.start - timedelta(days=1), story.start)
    # ada, bob and cat ×2; ada opened (twice: one email) and clicked, bob's open was a
    # machine's and he unsubscribed; cat's first email bounced; ada complained.
    assert (
        week.sent,
        week.opened,
        week.clicked,
        week.unsubscribed,
        week.bounced,
        week.complained,
    ) == (4, 1, 1, 1, 1, 1)
    assert week.open_rate == 0.25 and week.click_rate == 0.25
    assert before.sent == 0  # nothing was sent the day before


def test_bounces_among_too_few_emails_are_not_called_a_spike(app):
    story = build_story(app)
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        sent = session.scalars(select(Message).where(Message.lead_id == story.cat)).all()
        reports = [(message.token, message.to_address) for message in sent]
    for number, (token, address) in enumerate(reports):
        raw = dsn(address, "5.1.1", "550 no such user", token=token, bounce_id=f"b{number}@mx")
        _ingest(runtime, raw)
    with transaction(runtime.sessions) as session:
        today = figures(session, story.start, utcnow())
        # Too few emails for a spike to mean anything (SPIKE_MIN_SENT).
        assert today.bounced == 2 and not [
            p for p in glance(session, runtime.settings, utcnow()).problems if "spike" in p.code
        ]


def test_a_deadline_missed_counts_as_a_breach_before_the_sla_pass_marks_it(runtime, tmp_path):
    now = T0 + timedelta(hours=10)
    sync_sales_team(runtime, tmp_path, T0 - timedelta(days=1))
    missed = hand_off_to(runtime, ANN, "a@one.example", now - timedelta(hours=3))
    marked = hand_off_to(runtime, ANN, "b@two.example", now - timedelta(hours=4))
    hand_off_to(runtime, BEN, "c@three.example", now - timedelta(minutes=10))  # still running
    run_due(runtime, now - timedelta(hours=2, minutes=30))  # marks the older one breached
    assert clock(runtime, marked).status == "breached"
    assert clock(runtime, missed).status == "pending" and clock(runtime, missed).due_at < now
    with runtime.sessions() as session:
        assert glance(session, runtime.settings, now).sla_breaches == 2
        # A week later both deadlines are out of the period.
        assert glance(session, runtime.settings, now + timedelta(days=8)).sla_breaches == 0

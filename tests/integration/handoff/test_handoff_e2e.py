"""End to end: a qualified hand-raiser is handed to sales with the full context, the
notification and the auto-reply reach a real SMTP server at the next engine tick, the rep
accepts through the signed link; another lead rejected through the API is recycled and
receives the recycle track after its cool-down."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.campaigns.services import sync_campaign_files
from nurture.models import Account, Enrollment, Event, Lead, Message
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.scoring import sync_scoring
from nurture.sending.engine import Engine
from nurture.web import create_app
from tests.integration.engine_support import add_lead, templates_sent
from tests.integration.handoff_support import (
    BUNDLED_TEAM,
    PROJECT,
    add_account,
    add_event,
    handoff_row,
    lead_row,
    qualify,
    sync_team_file,
)

MARIA = "maria.lopez@brightpath.example"


@pytest.fixture
def e2e(settings, smtp_sink):
    """A runtime on the bundled configuration (campaigns, scoring, sales team) sending to
    the real SMTP server fixture, and the web app on the same database."""

    configured = settings.with_overrides(smtp_url=smtp_sink.url, sales_team_file=BUNDLED_TEAM)
    runtime = Runtime.from_settings(configured)
    now = utcnow().replace(microsecond=0)
    report = sync_campaign_files(runtime, now=now, path=PROJECT / "campaigns" / "examples")
    assert report.ok if hasattr(report, "ok") else True
    with transaction(runtime.sessions) as session:
        assert sync_scoring(session, PROJECT / "campaigns" / "scoring.yaml", now=now).ok
        _, api_key = create_api_key(session, "crm", now=now)
    sync_team_file(runtime, BUNDLED_TEAM, now)
    app = create_app({"NURTURE_SETTINGS": configured, "TESTING": True})
    try:
        yield runtime, app.test_client(), api_key, now
    finally:
        app.extensions["nurture"].close()
        runtime.close()


def tick(runtime: Runtime, now) -> None:
    engine = Engine(runtime)
    try:
        engine.tick(now)
    finally:
        engine.close()


def text_of(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content().replace("\r\n", "\n")


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_hand_raiser_reaches_its_rep_with_the_full_story_and_the_rep_accepts(e2e, smtp_sink):
    runtime, client, _, now = e2e
    account = add_account(
        runtime, "northwind.example", name="Northwind Logistics", country="US",
        employees=1500, industry="Logistics",
    )  # fmt: skip
    grace = add_lead(
        runtime, "grace@northwind.example", first_name="Grace", last_name="Hopper",
        title="VP of Operations", phone="+1 312 555 0199", timezone="America/Chicago",
        account_id=account, source="webinar", hand_raised_at=now - timedelta(minutes=5),
    )  # fmt: skip
    add_lead(
        runtime, "sam@northwind.example", first_name="Sam", last_name="Okafor",
        title="Senior Data Engineer", account_id=account, score_value=22.0, score_as_of=now,
    )  # fmt: skip
    add_lead(runtime, "quiet@northwind.example", first_name="Quinn", account_id=account)
    add_event(runtime, grace, "email.opened", now - timedelta(days=2), subject="Your benchmark")
    add_event(
        runtime,
        grace,
        "page.viewed",
        now - timedelta(hours=3),
        url="https://brightpath.example/pricing",
    )
    add_event(runtime, grace, "demo.requested", now - timedelta(minutes=5), form="demo")
    add_event(
        runtime,
        grace,
        "email.opened",
        now - timedelta(hours=1),
        subject="Proxy-only",
        is_machine=True,
    )

    handoff_id = qualify(
        runtime, grace, now, rule="hand-raiser-good-fit",
        reasons=("asked for a demo", "fit grade A"),
    )  # fmt: skip
    # Idempotent: qualifying again returns the open handoff and queues nothing new.
    assert qualify(runtime, grace, now + timedelta(seconds=5)) == handoff_id
    assert lead_row(runtime, grace).stage == "mql"

    tick(runtime, now + timedelta(seconds=1))
    by_recipient = {message["To"]: message for message in smtp_sink.received}
    assert set(by_recipient) == {MARIA, "grace@northwind.example"}
    # On Grace's timeline: the auto-reply she got is an email; Maria's note about her is not.
    with runtime.sessions() as session:
        outcomes = session.execute(
            select(Event.type, Message.kind)
            .join(Message, Message.id == Event.message_id)
            .where(Event.lead_id == grace, Event.type.like("%.sent"))
            .order_by(Message.kind)
        ).all()
    assert [tuple(o) for o in outcomes] == [
        ("email.sent", "auto_reply"),
        ("notification.sent", "handoff"),
    ]

    note = by_recipient[MARIA]
    text = text_of(note)
    assert note["Subject"] == "Hand-raiser: Grace Hopper (Northwind Logistics)"
    # Who the lead is, first: name, title and committee role, company, how to reach them.
    for expected in (
        "Grace Hopper, VP of Operations (decision maker)\nNorthwind Logistics\n",
        "grace@northwind.example · +1 312 555 0199",
        "(America/Chicago)",
    ):
        assert expected in text
    # Why now, in words and relative to the send (the tick one second after the handoff).
    assert "WHY NOW\n  - Asked for a demo, 5 min ago\n" in text
    # The account and its buying committee, the quiet colleague left out.
    assert "NORTHWIND LOGISTICS" in text and "Sam Okafor (technical evaluator)" in text
    assert "Quinn" not in text
    # The latest activity in words, machine hits excluded; the rest is on the lead's page.
    assert "  - Requested a demo · 5 min ago\n" in text
    assert "  - Visited a page · 3 h ago\n" in text
    assert "  - Read an email · 2 days ago\n" in text
    assert "Proxy-only" not in text and "page.viewed" not in text
    assert f"All details on the lead's page: http://nurture.test/leads/{grace}" in text
    # The suggested next step.
    assert "Call to book the demo, and be ready to talk pricing" in text
    # The SLA deadline (its placeholder until the SLA side computes it).
    deadline = handoff_row(runtime, handoff_id).snapshot["sla"]["deadline"]
    assert f"Please answer {deadline}." in text
    # Signed links to the pages, not tracking redirects; nothing that unsubscribes the lead.
    accept_url = re.search(r"Accept:\s+(\S+)", text).group(1)
    assert accept_url.startswith("http://nurture.test/handoffs/") and accept_url.endswith("/accept")
    assert "/t/c/" not in html_of(note) and "/t/o/" not in html_of(note)
    assert note["List-Unsubscribe"] is None

    reply = text_of(by_recipient["grace@northwind.example"])
    assert "Maria Lopez, Enterprise Account Executive" in reply
    assert MARIA in reply and "+1 415 555 0142" in reply
    assert "Mon–Fri 08:30–17:00 (America/Los_Angeles)" in reply

    # The rep follows the link: GET shows a confirm form and changes nothing.
    path = accept_url.removeprefix("http://nurture.test")
    page = client.get(path)
    assert page.status_code == 200 and "Accept this lead?" in page.text
    assert lead_row(runtime, grace).stage == "mql"
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert handoff_row(runtime, handoff_id).status == "offered"
    done = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "is yours" in done.text
    assert lead_row(runtime, grace).stage == "sal"
    assert handoff_row(runtime, handoff_id).status == "accepted"
    maria = handoff_row(runtime, handoff_id).rep_id
    with runtime.sessions() as session:
        assert session.get(Account, account).owner_id == maria
        assert session.get(Lead, grace).owner_id == maria
    again = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 409 and "already accepted" in again.text


def test_a_rejected_lead_is_recycled_counted_and_later_gets_the_recycle_track(e2e, smtp_sink):
    runtime, client, api_key, now = e2e
    headers = {"Authorization": f"Bearer {api_key}"}
    account = add_account(runtime, "kraut.example", name="Kraut GmbH", country="DE", employees=300)
    bob = add_lead(
        runtime, "bob@kraut.example", first_name="Bob", title="Marketing Manager",
        account_id=account, source="ads", timezone="Europe/Berlin",
    )  # fmt: skip
    handoff_id = qualify(runtime, bob, now, rule="engaged-a-fit")
    assert handoff_row(runtime, handoff_id).hand_raiser is False
    tick(runtime, now + timedelta(seconds=1))
    # DE, 300 people: the EMEA mid-market reps rotate; neither had a lead yet, so the first.
    assert [m["To"] for m in smtp_sink.received] == ["sophie.wagner@brightpath.example"]

    unknown = client.post(
        f"/api/v1/handoffs/{handoff_id}/reject", json={"reason": "meh"}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json["error"] == "unknown_reason"
    assert "no-budget" in unknown.json["message"]
    assert lead_row(runtime, bob).stage == "mql"

    rejected = client.post(
        f"/api/v1/handoffs/{handoff_id}/reject",
        json={"reason": "bad-timing", "note": "budget cycle starts in Q3"},
        headers=headers,
    )
    assert rejected.status_code == 200, rejected.json
    assert rejected.json["status"] == "rejected" and rejected.json["reject_reason"] == "bad-timing"
    assert lead_row(runtime, bob).stage == "recycled"
    with runtime.sessions() as session:
        enrolments = session.scalars(select(Enrollment).where(Enrollment.lead_id == bob)).all()
        assert [e.status for e in enrolments] == ["active"]

    reasons = client.get("/api/v1/handoffs/reasons", headers=headers).json
    assert reasons["by_reason"] == {"bad-timing": 1}
    (group,) = [g for g in reasons["groups"] if g["rejected"]]
    assert (group["source"], group["handed_off"], group["reasons"]) == ("ads", 1, {"bad-timing": 1})

    # The recycle track leaves the lead alone for two weeks (then the next Tuesday 10:00 in
    # the lead's timezone), then writes.
    tick(runtime, now + timedelta(minutes=1))
    tick(runtime, now + timedelta(days=13))
    assert "recycle-whats-new" not in templates_sent(runtime, bob)
    engine = Engine(runtime)
    try:
        for hour in range(24 * 10):
            engine.tick(now + timedelta(days=14, hours=hour))
            if "recycle-whats-new" in templates_sent(runtime, bob):
                break
    finally:
        engine.close()
    assert "recycle-whats-new" in templates_sent(runtime, bob)
    with runtime.sessions() as session:
        sent = session.scalar(
            select(Message).where(Message.lead_id == bob, Message.template == "recycle-whats-new")
        )
        assert sent.sent_at - now >= timedelta(days=14)
    assert "bob@kraut.example" in [m["To"] for m in smtp_sink.received]


def test_the_notification_goes_out_at_the_next_tick_not_later(e2e, smtp_sink):
    runtime, _, _, now = e2e
    lead = add_lead(runtime, "ann@example.org", first_name="Ann", hand_raised_at=now)
    qualify(runtime, lead, now)
    with runtime.sessions() as session:
        (message, reply) = session.scalars(
            select(Message).where(Message.lead_id == lead).order_by(Message.id)
        ).all()
        assert (message.kind, message.status, message.next_attempt_at) == (
            "handoff",
            "deferred",
            now,
        )
        assert reply.kind == "auto_reply"
    tick(runtime, now)
    assert len(smtp_sink.received) == 2
    with runtime.sessions() as session:
        assert {
            m.status for m in session.scalars(select(Message).where(Message.lead_id == lead))
        } == {"sent"}
    # No account, no owner in its territory: round-robin among everyone, said so.
    with runtime.sessions() as session:
        assert session.get(Lead, lead).owner_id is not None

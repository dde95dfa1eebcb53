"""The issue's "done when", end to end through the real paths: leads engage through the
events API and the hit processor until the readiness file makes them MQLs; the handoff
email with the full context reaches a real SMTP server at the engine's tick, the signed
webhook reaches a real HTTP receiver; the rep accepts through the link (→ sal); another
lead nobody answers breaches its SLA and is escalated to the manager and reassigned.

(Rejection → recycled → recycle track is covered in test_handoff_e2e.py.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.campaigns.services import sync_campaign_files
from nurture.handoff.sla import SlaPolicy, run_due
from nurture.handoff.webhooks import deliver_due
from nurture.handoff.webhooks.signing import SIGNATURE_HEADER, verify
from nurture.models import Handoff, HandoffSla, Lead
from nurture.platform.db import transaction, utcnow
from nurture.qualification.watch import sync_qualification_files
from nurture.scoring import sync_scoring
from nurture.sending.engine import Engine
from nurture.tracking.processing import process_pending_hits
from nurture.web import create_app
from tests.integration.handoff_support import BUNDLED_TEAM, PROJECT, sync_team_file
from tests.integration.webhook_support import webhook_receiver

SECRET = "whsec-journey"
MANAGER = "dana.ortiz@brightpath.example"


@pytest.fixture
def journey(settings, smtp_sink):
    with webhook_receiver(SECRET) as receiver:
        configured = settings.with_overrides(
            smtp_url=smtp_sink.url,
            sales_team_file=BUNDLED_TEAM,
            webhook_urls=(receiver.url,),
            webhook_secret=SECRET,
            sla=SlaPolicy(timedelta(hours=1), 0.75, ("manager", "reassign")),
        )
        app = create_app({"NURTURE_SETTINGS": configured, "TESTING": True})
        runtime = app.extensions["nurture"]
        now = utcnow().replace(microsecond=0)
        try:
            sync_campaign_files(runtime, now=now, path=PROJECT / "campaigns" / "examples")
            with transaction(runtime.sessions) as session:
                assert sync_scoring(session, PROJECT / "campaigns" / "scoring.yaml", now=now).ok
                _, key = create_api_key(session, "website", now=now)
            sync_team_file(runtime, BUNDLED_TEAM, now)
            assert all(report.ok for report in sync_qualification_files(runtime, now=now))
            yield runtime, app.test_client(), {"Authorization": f"Bearer {key}"}, receiver
        finally:
            runtime.close()


def engage(client, headers, runtime, email: str, **lead) -> int:
    """The lead arrives through the API, browses pricing and asks for a demo; the hit
    processor (as `nurture serve` runs it) turns that into events, score and readiness."""
    created = client.post("/api/v1/leads", json={"email": email, **lead}, headers=headers)
    assert created.status_code == 201, created.json
    for event in (
        {"type": "page.viewed", "url": "https://brightpath.example/pricing"},
        {"type": "demo.requested", "properties": {"form": "demo-request"}},
    ):
        answer = client.post("/api/v1/events", json={"email": email, **event}, headers=headers)
        assert answer.status_code == 202, answer.json
    while process_pending_hits(runtime, utcnow()):
        pass
    return created.json["id"]


def tick(runtime, now) -> None:
    engine = Engine(runtime)
    try:
        engine.tick(now)
    finally:
        engine.close()


def the_handoff(runtime, lead_id: int) -> Handoff:
    with runtime.sessions() as session:
        return session.scalar(
            select(Handoff).where(Handoff.lead_id == lead_id).order_by(Handoff.id.desc())
        )


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_an_engaged_lead_reaches_sales_by_email_and_webhook_and_is_accepted(journey, smtp_sink):
    runtime, client, headers, receiver = journey
    grace = engage(
        client, headers, runtime, "grace@northwind.example",
        first_name="Grace", last_name="Hopper", title="VP Revenue Operations",
        company="Northwind Logistics", company_domain="northwind.example", industry="logistics",
        employees=1500, country="US", timezone="America/Chicago",
        consent_status="granted", lawful_basis="consent",
    )  # fmt: skip
    handoff = the_handoff(runtime, grace)
    assert handoff is not None, "the demo request did not make the lead an MQL"
    assert handoff.qualification_rule == "hand-raiser" and handoff.hand_raiser
    with runtime.sessions() as session:
        assert session.get(Lead, grace).stage == "mql"
        sla = session.get(HandoffSla, handoff.id)

    # Nothing leaves inside the handoff's transaction: the tick sends, the worker posts.
    assert smtp_sink.received == [] and receiver.requests == []
    tick(runtime, utcnow())
    by_recipient = {message["To"]: message for message in smtp_sink.received}
    owner = "maria.lopez@brightpath.example"  # US enterprise
    assert set(by_recipient) == {owner, "grace@northwind.example"}
    text = text_of(by_recipient[owner])
    for expected in (
        "Grace Hopper, VP Revenue Operations",
        "Northwind Logistics",
        "Requested a demo",
        "Visited a page",
        "WHY NOW",
        # The SLA deadline in the owner's time, computed from her working hours.
        f"Please answer {handoff.snapshot['sla']['deadline']}.",
        "(America/Los_Angeles time; 1 business hour)",
    ):
        assert expected in text, expected
    assert sla.status == "pending" and sla.timezone == "America/Los_Angeles"

    assert deliver_due(runtime, utcnow()) == 1
    (created,) = receiver.delivered()
    # What a receiver does with the documented snippet: the signature checks out.
    assert verify(SECRET, created.headers[SIGNATURE_HEADER], created.body, now=utcnow().timestamp())
    data = created.json["data"]
    assert created.json["type"] == "handoff.created"
    assert (data["lead"]["email"], data["owner"]["email"]) == ("grace@northwind.example", owner)
    assert data["account"]["domain"] == "northwind.example"
    assert data["qualification"]["hand_raiser"] is True
    assert data["sla"]["due_at"] == sla.due_at.isoformat().replace("+00:00", "Z")

    # The rep accepts through the signed link in the email.
    accept_url = re.search(r"Accept:\s+(\S+)", text).group(1)
    path = accept_url.removeprefix("http://nurture.test")
    page = client.get(path)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post(path, data={"csrf_token": csrf}).status_code == 200
    with runtime.sessions() as session:
        assert session.get(Lead, grace).stage == "sal"
        assert session.get(HandoffSla, handoff.id).status == "met"
    assert deliver_due(runtime, utcnow()) == 1
    accepted = receiver.delivered()[-1]
    assert accepted.signature_valid and accepted.json["type"] == "handoff.accepted"
    assert accepted.json["data"]["lead"]["stage"] == "sal"


def test_a_lead_nobody_answers_is_escalated_to_the_manager_and_reassigned(journey, smtp_sink):
    runtime, client, headers, receiver = journey
    ken = engage(
        client, headers, runtime, "ken@globex.example",
        first_name="Ken", last_name="Thompson", title="Head of Sales",
        company="Globex", company_domain="globex.example", industry="software",
        employees=400, country="US", consent_status="granted", lawful_basis="consent",
    )  # fmt: skip
    first = the_handoff(runtime, ken)
    assert first is not None
    with runtime.sessions() as session:
        due = session.get(HandoffSla, first.id).due_at
    tick(runtime, utcnow())
    first_owner = next(m["To"] for m in smtp_sink.received if "Ken" in m["Subject"])

    # The deadline passes without an answer: the worker's pass escalates.
    report = run_due(runtime, due + timedelta(minutes=1))
    assert (report.breached, report.reassigned, report.managers_told) == (1, 1, 1)
    second = the_handoff(runtime, ken)
    assert second.id != first.id and second.previous_id == first.id
    tick(runtime, due + timedelta(minutes=1))
    later = smtp_sink.received[2:]
    escalation = next(m for m in later if m["To"] == MANAGER)
    assert escalation["Subject"].startswith("SLA missed: Ken Thompson (Globex)")
    body = text_of(escalation)
    assert "did not accept or reject Ken Thompson within 1 business hour" in body
    new_owner = next(m["To"] for m in later if m["To"] != MANAGER)
    assert new_owner != first_owner
    assert "reassigned to" in body and new_owner in body

    deliver_due(runtime, due + timedelta(minutes=2))
    # Deliveries go out in parallel: receivers order events by occurred_at, not arrival.
    by_type = {r.json["type"]: r.json for r in receiver.delivered()}
    assert sorted(by_type) == ["handoff.created", "handoff.reassigned", "handoff.sla.breached"]
    breached = by_type["handoff.sla.breached"]["data"]
    assert breached["escalation"]["reassigned_to"] == new_owner
    assert breached["sla"]["status"] == "breached"

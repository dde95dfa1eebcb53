"""The suppression list and audit log: who is never mailed again, and the trail of why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.consent import suppression
from nurture.consent.rules import is_mailable
from nurture.leads.service import upsert_leads
from nurture.leads.validation import validate_lead_data
from nurture.models import AuditLog, Lead, Suppression
from nurture.platform.db import transaction
from nurture.sending.engine import Engine
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    sync_fixture_campaigns,
    templates_sent,
)


def _import(runtime, *rows, now=T0):
    items = []
    for row in rows:
        fields, errors = validate_lead_data(row, default_timezone="UTC")
        assert not errors
        items.append(fields)
    with transaction(runtime.sessions) as session:
        return [r.lead.id for r in upsert_leads(session, items, now=now, source="csv")]


def _lead(runtime, lead_id) -> Lead:
    with runtime.sessions() as session:
        return session.get(Lead, lead_id)


def _audit(runtime) -> list[AuditLog]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditLog).order_by(AuditLog.id)))


def test_suppressed_address_is_stored_only_as_a_hash_and_found_in_any_spelling(runtime):
    with transaction(runtime.sessions) as session:
        suppression.suppress(
            session, "Nobody@Example.COM", reason="hard_bounce", source="bounce", now=T0
        )
    with runtime.sessions() as session:
        [row] = session.scalars(select(Suppression)).all()
        assert "nobody" not in row.email_hash and len(row.email_hash) == 64
        assert suppression.is_suppressed(session, " nobody@example.com ")
        assert not suppression.is_suppressed(session, "somebody@example.com")
    [entry] = _audit(runtime)
    assert (entry.action, entry.detail["reason"], entry.lead_id) == (
        "suppression.added",
        "hard_bounce",
        None,
    )


def test_the_hash_depends_on_the_instance_pepper():
    assert suppression.email_hash("a@b.example", "one") != suppression.email_hash(
        "a@b.example", "two"
    )


def test_suppressing_a_lead_makes_it_unmailable_and_is_audited(runtime):
    lead_id = add_lead(runtime, "ada@acme.example")
    assert is_mailable(_lead(runtime, lead_id))
    with transaction(runtime.sessions) as session:
        suppression.suppress(
            session,
            session.get(Lead, lead_id),
            reason="unsubscribed",
            source="one-click",
            now=T0,
            actor="lead",
        )
    lead = _lead(runtime, lead_id)
    assert not is_mailable(lead)
    assert (lead.suppressed_at, lead.suppression_reason, lead.unsubscribed_at) == (
        T0,
        "unsubscribed",
        T0,
    )
    [entry] = _audit(runtime)
    assert (entry.lead_id, entry.actor) == (lead_id, "lead")
    assert entry.email_hash == suppression.email_hash(
        "ada@acme.example", runtime.settings.suppression_pepper
    )


def test_a_suppressed_address_imported_again_is_created_suppressed(runtime):
    with transaction(runtime.sessions) as session:
        suppression.suppress(session, "back@acme.example", reason="complaint", source="arf", now=T0)
    [lead_id] = _import(
        runtime,
        {"email": "BACK@acme.example", "consent_status": "granted", "lawful_basis": "consent"},
    )
    lead = _lead(runtime, lead_id)
    assert lead.suppression_reason == "complaint"
    assert not is_mailable(lead)
    actions = [entry.action for entry in _audit(runtime)]
    assert actions == ["suppression.added", "consent.recorded", "suppression.applied"]


def test_a_later_import_with_consent_does_not_resubscribe_a_suppressed_lead(runtime):
    [lead_id] = _import(runtime, {"email": "x@acme.example", "lawful_basis": "consent"})
    with transaction(runtime.sessions) as session:
        suppression.suppress(
            session, "x@acme.example", reason="unsubscribed", source="one-click", now=T0
        )
    _import(
        runtime,
        {"email": "x@acme.example", "consent_status": "granted"},
        now=T0 + timedelta(days=1),
    )
    assert not is_mailable(_lead(runtime, lead_id))


def test_lift_on_new_consent_makes_the_lead_mailable_again(runtime):
    lead_id = add_lead(runtime, "again@acme.example")
    with transaction(runtime.sessions) as session:
        suppression.suppress(
            session, "again@acme.example", reason="unsubscribed", source="one-click", now=T0
        )
    with transaction(runtime.sessions) as session:
        assert suppression.lift(
            session, "again@acme.example", source="double-opt-in", now=T0, actor="lead"
        )
        assert not suppression.lift(
            session, "again@acme.example", source="double-opt-in", now=T0, actor="lead"
        )
    assert is_mailable(_lead(runtime, lead_id))
    assert [entry.action for entry in _audit(runtime)] == [
        "suppression.added",
        "suppression.lifted",
    ]


def test_unknown_reason_is_refused(runtime):
    with transaction(runtime.sessions) as session, pytest.raises(ValueError, match="reason"):
        suppression.suppress(session, "a@b.example", reason="bored", source="x", now=T0)


def test_a_suppressed_lead_gets_no_further_campaign_email(runtime):
    sync_fixture_campaigns(runtime)
    lead_id = add_lead(runtime, "bounced@acme.example", temperature="warm")
    enrol(runtime, lead_id)
    engine = Engine(runtime)
    engine.tick(T0)
    assert templates_sent(runtime, lead_id) == ["welcome-guide"]
    with transaction(runtime.sessions) as session:
        suppression.suppress(
            session, "bounced@acme.example", reason="hard_bounce", source="bounce", now=T0
        )
    engine.tick(T0 + timedelta(days=5))
    assert templates_sent(runtime, lead_id) == ["welcome-guide"]

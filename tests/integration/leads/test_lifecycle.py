"""Stage changes through nurture.leads.lifecycle: recorded, enforced, and felt by campaigns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.leads.lifecycle import StageError, change_stage, stage_history
from nurture.leads.service import upsert_leads
from nurture.leads.validation import LeadFields
from nurture.models import Enrollment, Event, Lead, StageChange
from nurture.platform.db import transaction
from nurture.sending.engine import Engine
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    enrollment,
    sync_fixture_campaigns,
)


def _stage_events(session, lead_id):
    return list(
        session.scalars(
            select(Event).where(Event.lead_id == lead_id, Event.type == "stage.changed")
        )
    )


def test_a_stage_change_is_recorded_with_from_to_why_and_who(runtime):
    lead_id = add_lead(runtime, "ada@acme.example", stage="lead")
    at = T0 + timedelta(hours=2)
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        change_stage(
            session,
            lead,
            "mql",
            reason="asked for a demo; grade B",
            actor="rule:hand-raiser",
            rule="hand-raiser",
            now=at,
        )
    with runtime.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.stage, lead.stage_changed_at) == ("mql", at)
        (change,) = stage_history(session, lead_id)
        assert (change.from_stage, change.to_stage, change.at) == ("lead", "mql", at)
        assert change.reason == "asked for a demo; grade B"
        assert (change.actor, change.rule) == ("rule:hand-raiser", "hand-raiser")
        (event,) = _stage_events(session, lead_id)
        assert event.properties == {
            "from": "lead",
            "to": "mql",
            "reason": "asked for a demo; grade B",
            "actor": "rule:hand-raiser",
            "rule": "hand-raiser",
        }


def test_a_disallowed_transition_leaves_everything_unchanged(runtime):
    lead_id = add_lead(runtime, "bob@acme.example", stage="lead")
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        before = lead.stage_changed_at
        with pytest.raises(StageError, match="cannot move from 'lead' to 'customer'") as error:
            change_stage(session, lead, "customer", reason="x", actor="user:a@b.example", now=T0)
        assert (error.value.from_stage, error.value.to_stage) == ("lead", "customer")
        assert (lead.stage, lead.stage_changed_at) == ("lead", before)
    with runtime.sessions() as session:
        assert session.get(Lead, lead_id).stage == "lead"
        assert session.scalar(select(StageChange).where(StageChange.lead_id == lead_id)) is None
        assert _stage_events(session, lead_id) == []


def test_moving_to_a_sales_stage_exits_the_nurture_enrolment_at_the_next_tick(runtime):
    sync_fixture_campaigns(runtime)
    lead_id = add_lead(runtime, "cy@acme.example", stage="lead")
    enrollment_id = enrol(runtime, lead_id)
    engine = Engine(runtime)
    try:
        engine.tick(T0)
        # The enrolment now waits (days) for its next step.
        assert enrollment(runtime, enrollment_id).next_due_at > T0 + timedelta(hours=1)
        at = T0 + timedelta(hours=1)
        with transaction(runtime.sessions) as session:
            lead = session.get(Lead, lead_id)
            change_stage(session, lead, "mql", reason="ready", actor="system", now=at)
        # lead_changed made it due at once: the next tick applies the exit rule.
        assert enrollment(runtime, enrollment_id).next_due_at == at
        engine.tick(at + timedelta(seconds=1))
    finally:
        engine.close()
    done = enrollment(runtime, enrollment_id)
    assert done.status != "active"
    assert "mql" in (done.exit_reason or "")


def test_a_recycled_lead_enters_the_campaign_triggered_by_recycling(runtime, tmp_path):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    source = Path(__file__).resolve().parents[3] / "campaigns" / "examples" / "recycle.yaml"
    (folder / "recycle.yaml").write_text(source.read_text())
    report = sync_fixture_campaigns(runtime, folder)
    assert not getattr(report, "problems", None)
    lead_id = add_lead(runtime, "dee@acme.example", stage="sal")
    with transaction(runtime.sessions) as session:
        lead = session.get(Lead, lead_id)
        change_stage(
            session,
            lead,
            "recycled",
            reason="no budget this year",
            actor="user:s@x.example",
            now=T0,
        )
    with runtime.sessions() as session:
        enrolments = list(session.scalars(select(Enrollment).where(Enrollment.lead_id == lead_id)))
        assert [e.status for e in enrolments] == ["active"]


def test_an_import_with_an_explicit_stage_goes_through_the_lifecycle_as_import(runtime):
    lead_id = add_lead(runtime, "eve@acme.example", stage="lead")
    with transaction(runtime.sessions) as session:
        upsert_leads(
            session,
            [LeadFields(email="eve@acme.example", stage="customer")],
            now=T0,
            source="csv",
        )
    with runtime.sessions() as session:
        assert session.get(Lead, lead_id).stage == "customer"
        (change,) = stage_history(session, lead_id)
        assert (change.from_stage, change.to_stage, change.actor) == ("lead", "customer", "import")
        assert "csv" in change.reason

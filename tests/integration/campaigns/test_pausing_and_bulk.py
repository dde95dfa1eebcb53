"""Pausing and resuming a campaign, and enrolling a filtered set of leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.campaigns.bulk import enrol_selection
from nurture.campaigns.pausing import CampaignNotFound, pause_campaign, resume_campaign
from nurture.campaigns.services import enrol_by_email
from nurture.cli import cli
from nurture.leads.selection import LeadSelection
from nurture.models import Account, AuditLog, Campaign, Enrollment, Message
from nurture.platform.db import transaction
from nurture.sending.engine import Engine
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    messages_for,
    sync_fixture_campaigns,
)


def _tick(runtime, now):
    engine = Engine(runtime)
    try:
        return engine.tick(now)
    finally:
        engine.close()


def _campaign(runtime):
    with transaction(runtime.sessions) as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "test-drip"))
        session.expunge(campaign)
        return campaign


def test_a_paused_campaign_sends_nothing_and_resumes_where_each_lead_was(runtime):
    sync_fixture_campaigns(runtime)
    lead = add_lead(runtime, "ada@acme.example")
    enrolment = enrol(runtime, lead)

    outcome = pause_campaign(runtime, "test-drip", actor="user:7", now=T0)
    assert (outcome.changed, outcome.status, outcome.enrolments, outcome.overdue) == (
        True,
        "paused",
        1,
        1,
    )
    paused = _campaign(runtime)
    assert (paused.status, paused.paused_at, paused.paused_by) == ("paused", T0, "user:7")
    # Days of ticks: nothing is sent, the enrolment keeps its place.
    for hours in (0, 5, 30, 80):
        _tick(runtime, T0 + timedelta(hours=hours))
    assert messages_for(runtime, lead) == []
    with transaction(runtime.sessions) as session:
        row = session.get(Enrollment, enrolment)
        assert (row.status, row.step, row.next_due_at) == ("active", None, T0)
    # No new lead enters a paused campaign.
    other = add_lead(runtime, "bob@acme.example")
    refused = enrol_by_email(runtime, "bob@acme.example", "test-drip", now=T0)
    assert (refused.enrolled, refused.reason) == (False, "campaign is paused")
    assert other

    again = pause_campaign(runtime, "test-drip", actor="user:7", now=T0)
    assert (again.changed, again.reason) == (False, "already paused")

    later = T0 + timedelta(days=4)
    resumed = resume_campaign(runtime, "test-drip", actor="user:7", now=later)
    assert (resumed.changed, resumed.status, resumed.overdue) == (True, "active", 1)
    assert _campaign(runtime).paused_at is None
    _tick(runtime, later)
    # One email, the first step's: no backlog of the days it was paused.
    assert [m.template for m in messages_for(runtime, lead)] == ["welcome-guide"]
    with transaction(runtime.sessions) as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.action.like("campaign.%")).order_by(AuditLog.id)
        ).all()
    assert actions == ["campaign.paused", "campaign.resumed"]


def test_a_paused_campaigns_retries_wait_for_the_resume(runtime):
    sync_fixture_campaigns(runtime)
    lead = add_lead(runtime, "ada@acme.example")
    enrol(runtime, lead)
    _tick(runtime, T0)
    with transaction(runtime.sessions) as session:
        message = session.scalar(select(Message).where(Message.lead_id == lead))
        message.status, message.next_attempt_at = "deferred", T0 + timedelta(minutes=5)
    pause_campaign(runtime, "test-drip", actor="cli", now=T0)
    _tick(runtime, T0 + timedelta(hours=1))
    assert messages_for(runtime, lead)[0].status == "deferred"
    resume_campaign(runtime, "test-drip", actor="cli", now=T0 + timedelta(hours=2))
    _tick(runtime, T0 + timedelta(hours=2))
    assert messages_for(runtime, lead)[0].status == "sent"


def test_an_archived_or_unknown_campaign_is_refused(runtime):
    sync_fixture_campaigns(runtime)
    with transaction(runtime.sessions) as session:
        session.scalar(select(Campaign)).status = "archived"
    assert (
        pause_campaign(runtime, "test-drip", actor="cli", now=T0).reason == "campaign is archived"
    )
    assert (
        resume_campaign(runtime, "test-drip", actor="cli", now=T0).reason == "campaign is archived"
    )
    with pytest.raises(CampaignNotFound):
        pause_campaign(runtime, "nope", actor="cli", now=T0)


def test_cli_pause_and_resume(app):
    runtime = app.extensions["nurture"]
    sync_fixture_campaigns(runtime)
    runner = app.test_cli_runner()
    paused = runner.invoke(cli, ["campaigns", "pause", "test-drip", "--now", "2026-11-24T09:00"])
    assert paused.exit_code == 0, paused.output
    assert "test-drip: paused; 0 live enrolments hold their place" in paused.output
    assert "already paused" in runner.invoke(cli, ["campaigns", "pause", "test-drip"]).output
    resumed = runner.invoke(cli, ["campaigns", "resume", "test-drip"])
    assert resumed.exit_code == 0 and "test-drip: resumed" in resumed.output
    missing = runner.invoke(cli, ["campaigns", "pause", "nope"])
    assert missing.exit_code == 1 and "no campaign 'nope'" in missing.output
    assert _campaign(runtime).status == "active"


def test_enrolling_a_set_previews_then_enrols_and_says_why_others_were_not(runtime):
    sync_fixture_campaigns(runtime)
    with transaction(runtime.sessions) as session:
        session.add(Account(name="Acme", domain="acme.example"))
    with transaction(runtime.sessions) as session:
        acme = session.scalar(select(Account.id))
    ada = add_lead(runtime, "ada@acme.example", account_id=acme, source="webinar")
    add_lead(runtime, "bob@acme.example", account_id=acme, source="webinar")
    add_lead(
        runtime, "cat@acme.example", account_id=acme, source="webinar", consent_status="withdrawn"
    )
    add_lead(runtime, "dan@acme.example", account_id=acme, source="webinar", stage="mql")
    add_lead(runtime, "eve@other.example", source="webinar")
    enrol(runtime, ada)
    selection = LeadSelection(source="webinar", account_domain="ACME.example ")

    preview = enrol_selection(runtime, "test-drip", selection, now=T0, preview=True)
    assert preview.matched == 4 and preview.enrolled == 1
    assert preview.refused == {
        "already enrolled": 1,
        "lead may not be mailed (consent or unsubscribe)": 1,
        "lead is not in the campaign's audience": 1,
    }
    with transaction(runtime.sessions) as session:
        assert len(session.scalars(select(Enrollment)).all()) == 1  # the preview rolled back

    done = enrol_selection(runtime, "test-drip", selection, now=T0, preview=False)
    assert (done.enrolled, done.refused_count) == (1, 3)
    with transaction(runtime.sessions) as session:
        assert len(session.scalars(select(Enrollment)).all()) == 2
    again = enrol_selection(runtime, "test-drip", selection, now=T0, preview=True)
    assert again.enrolled == 0 and again.refused["already enrolled"] == 2

    too_many = enrol_selection(runtime, "test-drip", selection, now=T0, preview=False, limit=3)
    assert too_many.too_many and too_many.enrolled == 0
    pause_campaign(runtime, "test-drip", actor="cli", now=T0)
    paused = enrol_selection(runtime, "test-drip", selection, now=T0, preview=True)
    assert paused.refused_all == "campaign is paused" and paused.matched == 4
    with pytest.raises(CampaignNotFound):
        enrol_selection(runtime, "nope", selection, now=T0, preview=True)

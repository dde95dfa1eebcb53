"""Scoring on a real database: the model synced as versions, events (human and machine)
turned into decayed scores, explanations, temperatures, timeline events and track switches."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.models import EnrollmentHistory, Event, Lead, ScoringVersion
from nurture.platform.db import transaction
from nurture.scoring import lead_score, rescore_everyone, rescore_leads, sync_scoring
from nurture.scoring.service import event_is_hand_raiser
from nurture.scoring.timeline import lead_timeline
from nurture.scoring.watch import ScoringWatcher
from nurture.sending.engine import Engine
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    enrollment,
    sync_fixture_campaigns,
    templates_sent,
)

MODEL = """\
name: Integration model
half_life: 7d
bands: { warm: 20, hot: 50 }
rules:
  - id: demo
    event: demo.requested
    points: 40
    hand_raiser: true
  - id: pricing
    event: page.viewed
    when: { url: /pricing* }
    points: 10
    cap: { per_day: 10 }
  - id: click
    event: email.clicked
    points: 5
    cap: { total: 15 }
  - id: open
    event: email.opened
    points: 1
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "scoring.yaml"
    path.write_text(MODEL)
    return path


@pytest.fixture
def scored(runtime, model_file):
    with transaction(runtime.sessions) as session:
        report = sync_scoring(session, model_file, now=T0)
    assert report.action == "created", report
    return runtime


def add_event(rt, lead_id: int, kind: str, at: datetime, *, machine: bool = False, **props):
    with transaction(rt.sessions) as session:
        event = Event(
            lead_id=lead_id,
            type=kind,
            occurred_at=at,
            recorded_at=at,
            is_machine=machine,
            machine_reasons=["apple-mpp proxy"] if machine else [],
            properties=props,
        )
        session.add(event)
        session.flush()
        return event.id


def rescore(rt, lead_id: int, now: datetime):
    with transaction(rt.sessions) as session:
        (change,) = rescore_leads(session, [lead_id], now)
    return change


def lead_row(rt, lead_id: int) -> Lead:
    with rt.sessions() as session:
        return session.get(Lead, lead_id)


def events_of(rt, lead_id: int, kind: str) -> list[Event]:
    with rt.sessions() as session:
        return list(
            session.scalars(select(Event).where(Event.lead_id == lead_id, Event.type == kind))
        )


def test_only_human_events_count_and_the_stored_score_decays_on_read(scored):
    lead = add_lead(scored, "ada@acme.example")
    for minute in range(5):
        add_event(scored, lead, "email.clicked", T0 + timedelta(seconds=minute), machine=True)
    add_event(scored, lead, "email.clicked", T0, url="https://acme.example/guide")
    add_event(scored, lead, "page.viewed", T0, url="https://brightpath.example/pricing")
    change = rescore(scored, lead, T0)
    assert change.score == pytest.approx(15)
    row = lead_row(scored, lead)
    assert (row.score_value, row.score_as_of, row.temperature) == (15, T0, "cold")
    # Two half-lives later the same row reads a quarter, without being rewritten.
    assert row.decayed_score(T0 + timedelta(days=14)) == pytest.approx(15 / 4)


def test_warming_up_writes_the_timeline_and_switches_the_campaign_track(scored):
    sync_fixture_campaigns(scored)
    lead = add_lead(scored, "warming@acme.example")
    enrollment_id = enrol(scored, lead)
    engine = Engine(scored)
    try:
        engine.tick(T0)
        assert templates_sent(scored, lead) == ["welcome-guide"]
        assert enrollment(scored, enrollment_id).next_due_at > T0 + timedelta(days=1)

        now = T0 + timedelta(hours=2)
        for _ in range(3):
            add_event(scored, lead, "email.clicked", now - timedelta(minutes=5), url="/guide")
        add_event(scored, lead, "page.viewed", now, url="https://brightpath.example/pricing")
        change = rescore(scored, lead, now)
        assert (change.temperature_before, change.temperature) == ("cold", "warm")
        assert change.enrolments_due == 1 or enrollment(scored, enrollment_id).track == "warm"
        assert enrollment(scored, enrollment_id).next_due_at <= now

        (event,) = events_of(scored, lead, "temperature.changed")
        assert event.properties["from"] == "cold" and event.properties["to"] == "warm"
        assert event.properties["score"] == pytest.approx(25, abs=0.1)

        engine.tick(now)
    finally:
        engine.close()
    assert enrollment(scored, enrollment_id).track == "warm"
    assert templates_sent(scored, lead) == ["welcome-guide", "warm-case-study"]
    with scored.sessions() as session:
        actions = session.scalars(
            select(EnrollmentHistory.action).where(EnrollmentHistory.enrollment_id == enrollment_id)
        ).all()
    assert "switched" in actions


def test_a_hand_raise_is_recorded_once_on_the_lead_and_the_timeline(scored):
    lead = add_lead(scored, "raise@acme.example")
    event_id = add_event(scored, lead, "demo.requested", T0)
    change = rescore(scored, lead, T0)
    assert change.hand_raised_at == T0
    assert change.temperature == "warm"
    assert lead_row(scored, lead).hand_raised_at == T0
    again = rescore(scored, lead, T0 + timedelta(minutes=1))
    assert again.hand_raised_at is None
    (raised,) = events_of(scored, lead, "lead.hand_raised")
    assert raised.properties["event_id"] == event_id
    with scored.sessions() as session:
        assert event_is_hand_raiser(session, session.get(Event, event_id))


def test_the_explanation_matches_the_score_and_the_timeline_marks_machine_hits(scored):
    lead = add_lead(scored, "explain@acme.example")
    for day in range(4):
        add_event(scored, lead, "email.clicked", T0 + timedelta(days=day), url="/x")
    add_event(scored, lead, "email.opened", T0, machine=True)
    add_event(scored, lead, "page.viewed", T0 + timedelta(days=1), url="/pricing")
    now = T0 + timedelta(days=10)
    rescore(scored, lead, now)
    with scored.sessions() as session:
        row = session.get(Lead, lead)
        report = lead_score(session, row, now)
        timeline = lead_timeline(session, lead, explanation=report.explanation)
    explanation = report.explanation
    assert explanation.score == pytest.approx(lead_row(scored, lead).decayed_score(now))
    assert sum(part.now for part in explanation.rules) == pytest.approx(explanation.score)
    clicks = next(part for part in explanation.rules if part.rule.id == "click")
    assert (clicks.events, clicks.awarded, clicks.capped) == (4, 15, 5)
    machine = [entry for entry in timeline if entry.is_machine]
    assert [(e.type, e.machine_reasons) for e in machine] == [
        ("email.opened", ("apple-mpp proxy",))
    ]
    assert machine[0].rule is None
    pricing = next(entry for entry in timeline if entry.type == "page.viewed")
    assert pricing.points == 10 and pricing.points_now == pytest.approx(10 * 2 ** (-9 / 7))


def test_a_hot_lead_cools_at_the_computed_moment_and_moves_back_a_track(scored):
    lead = add_lead(scored, "cooling@acme.example")
    add_event(scored, lead, "demo.requested", T0)
    add_event(scored, lead, "page.viewed", T0, url="/pricing")
    add_event(scored, lead, "email.clicked", T0, url="/x")
    assert rescore(scored, lead, T0).temperature == "hot"
    # 55 points decay below hot (50) after log2(55/50) half-lives of 7 days: about a day.
    cools_at = lead_row(scored, lead).temperature_cools_at
    expected = T0 + timedelta(days=7) * math.log2(55 / 50)
    assert abs((cools_at - expected).total_seconds()) <= 2
    watcher = ScoringWatcher(scored)
    assert watcher.cool(cools_at - timedelta(seconds=2)) == []
    (change,) = watcher.cool(cools_at)
    assert (change.temperature_before, change.temperature) == ("hot", "warm")
    row = lead_row(scored, lead)
    assert row.temperature == "warm"
    assert row.temperature_cools_at > cools_at
    (event,) = events_of(scored, lead, "temperature.changed")[-1:]
    assert event.properties["reason"] == "decay"


def test_a_new_model_version_rescores_everyone_on_demand(scored, model_file):
    leads = [add_lead(scored, f"lead{i}@acme.example") for i in range(7)]
    for lead in leads:
        add_event(scored, lead, "email.opened", T0)
        rescore(scored, lead, T0)
    model_file.write_text(MODEL.replace("points: 1\n", "points: 30\n"))
    with transaction(scored.sessions) as session:
        report = sync_scoring(session, model_file, now=T0)
    assert (report.action, report.version) == ("created", 2)
    assert any("7 lead(s)" in note for note in report.notes)
    progress: list[tuple[int, int]] = []
    summary = rescore_everyone(
        scored.sessions, T0, batch_size=3, on_batch=lambda d, t: progress.append((d, t))
    )
    assert (summary.leads, summary.changed_temperature, summary.version) == (7, 7, 2)
    assert progress == [(3, 7), (6, 7), (7, 7)]
    assert {lead_row(scored, lead).temperature for lead in leads} == {"warm"}


def test_a_broken_edit_keeps_the_active_version_and_an_undo_restores_the_old_one(
    scored, model_file
):
    model_file.write_text(MODEL.replace("half_life: 7d", "half_life: soon"))
    with transaction(scored.sessions) as session:
        broken = sync_scoring(session, model_file, now=T0)
    assert broken.action == "failed"
    assert [f"{p.line}" for p in broken.problems] == ["2"]
    assert "version 1 stays active" in broken.notes[0]
    model_file.write_text(MODEL.replace("points: 40", "points: 45"))
    with transaction(scored.sessions) as session:
        assert sync_scoring(session, model_file, now=T0).version == 2
    model_file.write_text(MODEL)
    with transaction(scored.sessions) as session:
        restored = sync_scoring(session, model_file, now=T0)
        assert (restored.action, restored.version) == ("activated", 1)
        active = session.scalars(select(ScoringVersion).where(ScoringVersion.is_active)).all()
        assert [version.number for version in active] == [1]


def test_without_a_synced_model_nothing_is_scored(runtime):
    lead = add_lead(runtime, "nomodel@acme.example")
    add_event(runtime, lead, "demo.requested", T0)
    with transaction(runtime.sessions) as session:
        assert rescore_leads(session, [lead], T0) == []


def test_scores_are_only_rescored_for_the_given_leads(scored):
    first = add_lead(scored, "first@acme.example")
    second = add_lead(scored, "second@acme.example")
    add_event(scored, first, "demo.requested", T0)
    add_event(scored, second, "demo.requested", T0)
    rescore(scored, first, T0)
    assert lead_row(scored, first).score_value == 40
    assert lead_row(scored, second).score_value == 0

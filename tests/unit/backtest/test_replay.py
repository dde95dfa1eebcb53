"""Replaying small histories with a known rule: the backtest's figures are the ones
computed by hand, and nothing after a moment changes what was decided at it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nurture.backtest import HistoryLead, Model, Outcome, backtest, facts_at, replay
from nurture.backtest.report import Window, condition_of
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring import EventFacts
from nurture.scoring.parser import load_scoring_text

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

SCORING = """
name: test
half_life: 3650d
bands: { warm: 5, hot: 10 }
rules:
  - { id: demo, event: demo.requested, points: 3, hand_raiser: true }
  - { id: pricing, event: page.viewed, when: { url: "/pricing*" }, points: 5, cap: { per_day: 5 } }
  - { id: careers, event: page.viewed, when: { url: "/careers*" }, points: -1 }
"""
ICP = """
name: test icp
grades: { A: 75, B: 50, C: 25 }
criteria:
  - id: size
    field: account.employees
    bands: [{ gte: 100, points: 50 }]
  - id: visits
    field: attributes.history.visits
    bands: [{ gte: 5, points: 50 }]
"""
READINESS = """
name: score nine
rules:
  - { id: engaged, min_score: 9 }
"""


def model(readiness: str = READINESS, icp: str = ICP) -> Model:
    loads = load_scoring_text(SCORING), load_icp_text(icp), load_readiness_text(readiness)
    assert all(load.ok for load in loads), [str(p) for load in loads for p in load.problems]
    return Model(*(load.value for load in loads))


def views(*days: float, url: str = "/pricing") -> tuple[EventFacts, ...]:
    return tuple(
        EventFacts(n, "page.viewed", T0 + timedelta(days=d), {"url": url})
        for n, d in enumerate(days, start=1)
    )


def lead(key, events=(), converted_day=None, value=None, **fields) -> HistoryLead:
    at = T0 + timedelta(days=converted_day) if converted_day is not None else None
    return HistoryLead(
        key=key,
        created_at=T0,
        fields=fields,
        outcome=Outcome(at is not None, at, value),
        events=events,
    )


HISTORY = (
    lead("a", views(1, 2), converted_day=10, value=1000),  # handed over on day 2, converts
    lead("b", views(1), converted_day=10, value=500),  # 5 points only: missed
    lead("c", views(1, 3, 4)),  # handed over on day 3, never converts
    lead("d"),  # nothing happens
    lead("e", views(1, 1.1), converted_day=5),  # same day: capped at 5, missed
)


def test_figures_are_the_ones_computed_by_hand():
    result = backtest(model(), HISTORY)
    assert (result.leads, result.converters, result.handed_over, result.caught) == (5, 3, 2, 1)
    assert result.precision == 1 / 2
    assert result.recall == 1 / 3
    assert result.base_rate == 3 / 5
    assert result.lift == (1 / 2) / (3 / 5)
    assert result.median_days == 8.0  # day 2 → day 10
    assert [(m.month, m.handed_over, m.converted) for m in result.months] == [("2026-01", 2, 1)]
    assert [m.key for m in result.missed] == ["b", "e"]  # the bigger deal first
    assert (result.caught_value, result.missed_value) == (1000, 500)


def test_a_missed_converter_says_which_condition_it_did_not_meet():
    result = backtest(model(), HISTORY)
    missed = {m.key: m for m in result.missed}
    assert missed["b"].why == "engaged: engagement score 5.0 below 9"
    assert result.missed_conditions() == [("min_score", 2)]


def test_the_handover_is_at_the_event_that_made_the_lead_ready():
    result = replay(model(), HISTORY[0])
    assert result.handed_over_at == T0 + timedelta(days=2)
    assert result.rule == "engaged"


def test_events_after_the_handover_do_not_change_it():
    base = HISTORY[2]
    later = replace(base, events=(*base.events, *_renumbered(base, 3.5)))
    assert replay(model(), later).handed_over_at == replay(model(), base).handed_over_at


def _renumbered(base: HistoryLead, day: float) -> tuple[EventFacts, ...]:
    n = len(base.events) + 1
    return (EventFacts(n, "demo.requested", T0 + timedelta(days=day)),)


def test_events_at_or_after_the_conversion_are_not_replayed():
    b = HISTORY[1]
    after = replace(b, events=(*b.events, *(replace(e, id=9) for e in views(10))))
    assert not replay(model(), after).handed_over
    before = replace(b, events=(*b.events, *(replace(e, id=9) for e in views(9))))
    assert replay(model(), before).handed_over_at == T0 + timedelta(days=9)


def test_the_window_keeps_leads_created_in_it_and_handovers_before_its_end():
    end = T0 + timedelta(days=2, hours=12)
    result = backtest(model(), HISTORY, Window(end=end))
    assert result.handed_over == 1  # c's handover on day 3 is after the window
    none = backtest(model(), HISTORY, Window(start=T0 + timedelta(days=1)))
    assert none.leads == 0


def test_facts_at_a_moment_are_what_the_replay_saw_then():
    a = HISTORY[0]
    facts, _ = facts_at(model(), a, T0 + timedelta(days=2))
    assert facts.score == replay(model(), a).score == pytest.approx(10.0, abs=0.01)
    early, _ = facts_at(model(), a, T0 + timedelta(days=1, hours=1))
    assert early.score == pytest.approx(5.0, abs=0.01)


def test_aggregate_facts_count_only_from_when_they_were_known():
    readiness = "name: fit\nrules:\n  - { id: fit, min_grade: A }\n"
    fields = {"account.employees": 500, "attributes.history.visits": 7}
    known_later = replace(
        lead("f", views(1), converted_day=20, **fields), facts_at=T0 + timedelta(days=6)
    )
    result = replay(model(readiness), known_later)
    assert result.handed_over_at == T0 + timedelta(days=6)
    without = replace(known_later, fields={"account.employees": 500})
    assert not replay(model(readiness), without).handed_over


def test_a_hand_raise_is_the_latest_hand_raiser_event():
    readiness = "name: raise\nrules:\n  - { id: raised, hand_raised: { within: 1d } }\n"
    raised = lead("g", (EventFacts(1, "demo.requested", T0 + timedelta(days=3)),))
    result = replay(model(readiness), raised)
    assert result.handed_over_at == T0 + timedelta(days=3)
    assert result.reasons[0].startswith("raised a hand: demo.requested")


def test_condition_kinds_are_named_from_the_readiness_texts():
    assert condition_of("has not raised a hand (no demo request, trial or pricing contact)") == (
        "hand_raised"
    )
    assert condition_of("fit grade D (10) is below B") == "min_grade"
    assert condition_of("engagement is not hot (temperature warm)") == "temperature"

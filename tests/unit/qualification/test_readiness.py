"""Readiness: the MQL definition file and its rules (grade, engagement, hand-raises,
accounts), evaluated as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nurture.qualification.readiness import (
    ContactFacts,
    LeadFacts,
    cannot_be_ready,
    evaluate,
    reasons_as_of,
)
from nurture.qualification.readiness_parser import load_readiness_file, load_readiness_text

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)

READINESS = """\
name: Test MQL
recycle_cooldown: 30d
rules:
  - id: hand-raiser
    description: asked for a demo and fits
    hand_raised: { within: 14d }
    min_grade: C
  - id: hot-and-fit
    min_grade: B
    temperature: hot
  - id: committee
    min_grade: C
    account: { engaged_contacts: 3, min_grade: B }
"""


def readiness(text: str = READINESS):
    load = load_readiness_text(text, "readiness.yaml")
    assert load.ok, load.problems
    return load.value


def facts(**changes) -> LeadFacts:
    values = dict(
        lead_id=1,
        stage="lead",
        stage_changed_at=NOW - timedelta(days=60),
        fit_grade="B",
        fit_score=62,
        score=10.0,
        temperature="cold",
        hand_raised_at=None,
        hand_raise_event=None,
        account_name="Acme",
        contacts=(),
    )
    values.update(changes)
    return LeadFacts(**values)


def test_the_bundled_readiness_file_is_valid():
    load = load_readiness_file(ROOT / "campaigns" / "readiness.yaml")
    assert load.ok, load.problems


def test_a_hand_raiser_with_grade_c_or_better_qualifies_with_reasons():
    verdict = evaluate(
        readiness(),
        facts(hand_raised_at=NOW - timedelta(hours=2), hand_raise_event="demo.requested"),
        NOW,
    )
    assert verdict.rule.id == "hand-raiser"
    assert verdict.reasons == (
        "raised a hand: demo.requested 2 h ago",
        "fit grade B (62), C or better",
    )


def test_a_d_grade_hand_raiser_does_not_qualify_and_says_why():
    verdict = evaluate(
        readiness(),
        facts(fit_grade="D", fit_score=20, hand_raised_at=NOW - timedelta(hours=1)),
        NOW,
    )
    assert verdict.rule is None and verdict.eligible
    assert verdict.unmet["hand-raiser"] == "fit grade D (20) is below C"
    assert verdict.unmet["hot-and-fit"] == "fit grade D (20) is below B"


def test_an_old_hand_raise_does_not_count():
    verdict = evaluate(readiness(), facts(hand_raised_at=NOW - timedelta(days=20)), NOW)
    assert verdict.rule is None
    assert "longer than 14 days" in verdict.unmet["hand-raiser"]


def test_grade_b_and_hot_qualifies_but_warm_does_not():
    assert evaluate(readiness(), facts(temperature="hot", score=70), NOW).rule.id == "hot-and-fit"
    verdict = evaluate(readiness(), facts(temperature="warm", score=40), NOW)
    assert verdict.unmet["hot-and-fit"] == "engagement is not hot (temperature warm)"


def test_an_ungraded_lead_is_not_ready_and_says_so():
    verdict = evaluate(readiness(), facts(fit_grade=None, fit_score=None, temperature="hot"), NOW)
    assert verdict.unmet["hot-and-fit"] == "not graded yet (needs fit grade B or better)"


@pytest.mark.parametrize("stage", ["mql", "sal", "sql", "opportunity", "customer"])
def test_leads_sales_owns_never_qualify_again(stage):
    verdict = evaluate(readiness(), facts(stage=stage, temperature="hot"), NOW)
    assert not verdict.eligible and verdict.rule is None
    assert verdict.why_not == f"already at stage {stage} (sales owns the lead)"


def test_disqualified_leads_never_qualify():
    verdict = evaluate(readiness(), facts(stage="disqualified", temperature="hot"), NOW)
    assert verdict.why_not == "disqualified"


def test_a_recycled_lead_waits_for_its_cool_down():
    recent = facts(stage="recycled", stage_changed_at=NOW - timedelta(days=3), temperature="hot")
    verdict = evaluate(readiness(), recent, NOW)
    assert verdict.why_not == "recycled; cool-down until 2026-12-28 12:00 UTC"
    later = facts(stage="recycled", stage_changed_at=NOW - timedelta(days=31), temperature="hot")
    assert evaluate(readiness(), later, NOW).rule.id == "hot-and-fit"


def test_a_recycled_lead_needs_a_new_hand_raise_after_recycling():
    recycled_at = NOW - timedelta(days=31)
    old = facts(stage="recycled", stage_changed_at=recycled_at, hand_raised_at=recycled_at)
    verdict = evaluate(readiness("name: x\nrules:\n  - id: h\n    hand_raised: true\n"), old, NOW)
    assert verdict.unmet["h"] == "latest hand-raise (hand-raise) is older than the recycling"
    new = facts(
        stage="recycled", stage_changed_at=recycled_at, hand_raised_at=NOW - timedelta(days=1)
    )
    assert evaluate(
        readiness("name: x\nrules:\n  - id: h\n    hand_raised: true\n"), new, NOW
    ).ready


def contacts(*specs):
    return tuple(
        ContactFacts(i, grade, score, temperature, stage)
        for i, (grade, score, temperature, stage) in enumerate(specs, start=1)
    )


def test_the_buying_committee_rule_counts_engaged_contacts_at_a_good_account():
    committee = contacts(
        ("C", 30.0, "warm", "lead"),
        ("B", 40.0, "warm", "lead"),
        ("D", 70.0, "hot", "subscriber"),
        ("A", 1.0, "cold", "lead"),
    )
    verdict = evaluate(readiness(), facts(fit_grade="C", fit_score=40, contacts=committee), NOW)
    assert verdict.rule.id == "committee"
    assert verdict.reasons[-1] == "Acme: 3 engaged contacts (≥ 3), account grade A"


def test_the_buying_committee_rule_needs_enough_people_and_a_good_account():
    two = contacts(("B", 30.0, "warm", "lead"), ("B", 40.0, "warm", "lead"))
    verdict = evaluate(readiness(), facts(contacts=two), NOW)
    assert verdict.unmet["committee"] == "Acme: 2 engaged contact(s), fewer than 3"
    weak = contacts(*[("C", 40.0, "hot", "lead")] * 4)
    verdict = evaluate(readiness(), facts(fit_grade="C", contacts=weak), NOW)
    assert verdict.unmet["committee"] == "Acme: grade C, below B"
    disqualified = contacts(*[("A", 40.0, "hot", "disqualified")] * 3)
    assert not evaluate(readiness(), facts(contacts=disqualified), NOW).ready
    assert evaluate(readiness(), facts(), NOW).unmet["committee"] == (
        "no account (the account condition needs one)"
    )


def test_hand_raise_events_can_be_restricted():
    text = "name: x\nrules:\n  - id: demo\n    hand_raised: { events: [demo.requested] }\n"
    trial = facts(hand_raised_at=NOW, hand_raise_event="trial.started")
    assert evaluate(readiness(text), trial, NOW).unmet["demo"] == (
        "latest hand-raise (trial.started) is not one of demo.requested"
    )


def test_min_score_compares_the_decayed_score():
    text = "name: x\nrules:\n  - id: s\n    min_score: 50\n"
    assert evaluate(readiness(text), facts(score=50.0), NOW).ready
    assert evaluate(readiness(text), facts(score=49.9), NOW).unmet["s"] == (
        "engagement score 49.9 below 50"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nrules:\n  - id: r\n", "readiness.yaml:3: rule r needs at least one condition"),
        (
            "name: x\nrules:\n  - id: r\n    min_grade: E\n",
            "readiness.yaml:4: min_grade must be a grade A, B, C or D, not 'E'",
        ),
        (
            "name: x\nrules:\n  - id: r\n    temperature: boiling\n",
            "readiness.yaml:4: unknown temperature 'boiling'",
        ),
        (
            "name: x\nrules:\n  - id: r\n    min_grad: B\n",
            "readiness.yaml:4: unknown field 'min_grad' (did you mean 'min_grade'?)",
        ),
        (
            "name: x\nrules:\n  - id: r\n    account: { engaged_contacts: 0 }\n",
            "readiness.yaml:4: engaged_contacts must be a whole number ≥ 1, not 0",
        ),
        (
            "name: x\nrecycle_cooldown: soon\nrules:\n  - id: r\n    min_grade: B\n",
            "readiness.yaml:2: recycle_cooldown:",
        ),
        (
            "name: x\nrules:\n  - id: r\n    min_grade: B\n  - id: r\n    min_grade: A\n",
            "readiness.yaml:5: duplicate rule id 'r' (first on line 3)",
        ),
    ],
)
def test_readiness_problems_name_their_line(text, expected):
    load = load_readiness_text(text, "readiness.yaml")
    assert not load.ok
    assert any(str(p).startswith(expected) for p in load.problems), load.problems


def test_stored_reasons_say_how_long_ago_the_hand_was_raised_as_of_now():
    raised = NOW - timedelta(days=4, minutes=1)
    stored = ["raised a hand: demo.requested 1 min ago", "fit grade A (88), B or better"]

    assert reasons_as_of(stored, raised, NOW) == [
        "raised a hand: demo.requested 4 days ago",
        "fit grade A (88), B or better",
    ]
    assert reasons_as_of(stored, None, NOW) == stored  # no time known: kept as written


def test_a_lead_that_fails_its_own_conditions_in_every_rule_is_ready_at_no_account():
    """``cannot_be_ready`` lets an import skip a lead's account and verdict: it must never
    say so of a lead that some account's people could make ready."""
    rules = readiness()
    committee = tuple(ContactFacts(100 + i, "A", 50.0, "hot", "lead", "Buyer") for i in range(4))
    grid = [
        facts(stage=stage, fit_grade=grade, temperature=temperature, hand_raised_at=raised)
        for stage in ("subscriber", "lead", "recycled", "sql", "disqualified")
        for grade in (None, "A", "B", "C", "D")
        for temperature in ("cold", "warm", "hot")
        for raised in (None, NOW - timedelta(days=1), NOW - timedelta(days=40))
    ]
    skipped = 0
    for lead in grid:
        if cannot_be_ready(rules, lead, NOW):
            skipped += 1
            for contacts in ((), committee):
                assert evaluate(rules, replace(lead, contacts=contacts), NOW).rule is None, lead
    # A cold new lead graded D is one of them; a C lead is not (a committee can carry it).
    assert cannot_be_ready(rules, facts(fit_grade="D"), NOW)
    assert not cannot_be_ready(rules, facts(fit_grade="C"), NOW)
    assert evaluate(rules, facts(fit_grade="C", contacts=committee), NOW).rule is not None
    assert 0 < skipped < len(grid)

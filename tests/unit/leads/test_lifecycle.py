"""The lifecycle transition table: which stage moves are allowed, and what refusals say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nurture.leads.lifecycle import (
    TRANSITIONS,
    allowed_next,
    check_transition,
    time_in_stage,
    validate_actor,
)
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.models import Lead


def test_every_stage_has_a_row_and_only_known_targets():
    assert set(TRANSITIONS) == set(LIFECYCLE_STAGES)
    for targets in TRANSITIONS.values():
        assert targets <= set(LIFECYCLE_STAGES)


@pytest.mark.parametrize(
    ("from_stage", "to_stage"),
    [
        ("subscriber", "lead"),
        ("subscriber", "mql"),
        ("lead", "mql"),
        ("mql", "sal"),
        ("mql", "recycled"),
        ("sal", "sql"),
        ("sql", "opportunity"),
        ("opportunity", "customer"),
        ("recycled", "mql"),
        ("recycled", "lead"),
        ("disqualified", "lead"),
    ],
)
def test_the_funnel_moves_are_allowed(from_stage, to_stage):
    assert check_transition(from_stage, to_stage) is None


@pytest.mark.parametrize("stage", [s for s in LIFECYCLE_STAGES if s != "disqualified"])
def test_any_stage_can_be_disqualified(stage):
    assert check_transition(stage, "disqualified") is None


@pytest.mark.parametrize(
    ("from_stage", "to_stage"),
    [
        ("lead", "sal"),  # sales accepts only what marketing handed over
        ("lead", "customer"),
        ("mql", "customer"),
        ("sql", "customer"),  # customer only from opportunity
        ("customer", "lead"),
        ("lead", "recycled"),  # only sales can give a lead back
        ("disqualified", "mql"),  # reopened as a lead first, then it must qualify
        ("mql", "lead"),
    ],
)
def test_skipping_or_reversing_the_funnel_is_refused(from_stage, to_stage):
    refusal = check_transition(from_stage, to_stage)
    assert refusal is not None
    assert f"from {from_stage!r} to {to_stage!r}" in refusal


def test_refusals_list_the_allowed_moves():
    assert check_transition("mql", "customer") == (
        "a lead cannot move from 'mql' to 'customer' (allowed from 'mql': sal, recycled, "
        "disqualified)"
    )


def test_same_stage_and_unknown_stage_are_refused_even_with_override():
    assert "already at stage" in check_transition("mql", "mql", override=True)
    assert "unknown stage 'won'" in check_transition("mql", "won", override=True)


def test_override_allows_any_other_stage():
    assert check_transition("lead", "customer", override=True) is None
    assert check_transition("customer", "subscriber", override=True) is None


def test_allowed_next_of_unknown_stage_is_empty():
    assert allowed_next("nope") == frozenset()
    assert allowed_next("mql") == {"sal", "recycled", "disqualified"}


def test_time_in_stage_counts_from_the_last_change():
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    lead = Lead(email="a@example.com", stage="mql", stage_changed_at=now - timedelta(hours=5))
    assert time_in_stage(lead, now) == timedelta(hours=5)
    assert time_in_stage(lead, now - timedelta(hours=6)) == timedelta(0)


@pytest.mark.parametrize("actor", ["rule:hand-raiser", "user:ann@example.com", "import", "system"])
def test_documented_actors_are_accepted(actor):
    assert validate_actor(actor) == actor


@pytest.mark.parametrize("actor", ["", "bob", "user:", "rule: ", "robot:x"])
def test_other_actors_are_refused(actor):
    with pytest.raises(ValueError, match="actor must be"):
        validate_actor(actor)

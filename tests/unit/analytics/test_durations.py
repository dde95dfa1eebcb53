"""Velocity's pure rules: percentiles, stays from a lead's changes, first touch, and the
first sales action along a chain of reassigned handoffs (every expectation by hand)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nurture.analytics.durations import (
    Change,
    Spread,
    Stay,
    days,
    first_actions,
    first_touch,
    percentile,
    spread,
    stays,
)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        # Sorted 1, 2, 4, 10: rank 0.5 · 3 = 1.5, half-way between 2 and 4.
        ([10, 1, 4, 2], 0.5, 3.0),
        # 0.75 · 3 = 2.25: 4 + 0.25 · (10 − 4).
        ([10, 1, 4, 2], 0.75, 5.5),
        # 0.9 · 3 = 2.7: 4 + 0.7 · 6.
        ([10, 1, 4, 2], 0.9, 8.2),
        # An odd count's median is the middle value.
        ([5, 3, 9], 0.5, 5.0),
        # One value is every percentile.
        ([7], 0.9, 7.0),
        ([1, 2], 0.0, 1.0),
        ([1, 2], 1.0, 2.0),
    ],
)
def test_percentiles_interpolate_between_the_nearest_ranks(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_no_values_have_no_percentile_rather_than_zero():
    assert percentile([], 0.5) is None
    assert spread([]) == Spread(0, None, None, None)
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0], 1.5)


def test_a_spread_is_in_days_to_two_decimals():
    hour, day = 3600.0, 86400.0
    # 1 day, 2 days 12 hours, 4 days: median 2.5 days, p75 at rank 1.5 → 3.25,
    # p90 at rank 1.8 → 2.5 + 0.8 · 1.5 = 3.7.
    assert spread([day, 2 * day + 12 * hour, 4 * day]) == Spread(3, 2.5, 3.25, 3.7)
    assert days(3 * hour) == 0.12 and days(None) is None
    assert spread([hour], waiting=2).as_dict() == {
        "count": 1,
        "median_days": 0.04,
        "p75_days": 0.04,
        "p90_days": 0.04,
        "waiting": 2,
    }


def test_each_stay_runs_from_entering_a_stage_to_the_next_change():
    history = [
        Change("lead", "mql", at(1)),
        Change("mql", "sal", at(3, 12)),
        Change("sal", "sql", at(10)),
    ]
    assert stays(history) == [
        Stay("mql", at(1), at(3, 12)),
        Stay("sal", at(3, 12), at(10)),
        Stay("sql", at(10), None),
    ]
    assert [s.seconds for s in stays(history)] == [2.5 * 86400, 6.5 * 86400, None]


def test_a_skipped_stage_has_no_stay():
    # An import moves the lead from lead straight to sql: it passed mql and sal without
    # waiting in them.
    history = [Change("lead", "sql", at(2)), Change("sql", "opportunity", at(5))]
    assert [s.stage for s in stays(history)] == ["sql", "opportunity"]


def test_stages_passed_in_the_same_instant_have_no_stay():
    # Converting an offered handoff to won passes sal, sql and opportunity at once.
    history = [
        Change("lead", "mql", at(1)),
        Change("mql", "sal", at(4)),
        Change("sal", "sql", at(4)),
        Change("sql", "opportunity", at(4)),
        Change("opportunity", "customer", at(4)),
    ]
    assert stays(history) == [Stay("mql", at(1), at(4)), Stay("customer", at(4), None)]


def test_a_recycled_lead_that_returns_has_a_stay_for_each_visit():
    history = [
        Change("lead", "mql", at(1)),
        Change("mql", "recycled", at(3)),
        Change("recycled", "mql", at(20)),
        Change("mql", "sal", at(21)),
    ]
    assert [(s.stage, s.seconds) for s in stays(history)] == [
        ("mql", 2 * 86400),
        ("recycled", 17 * 86400),
        ("mql", 86400),
        ("sal", None),
    ]
    assert stays([]) == []


def test_the_first_touch_is_the_first_human_event_or_the_creation_whichever_came_first():
    assert first_touch(at(10), None) == at(10)
    assert first_touch(at(10), at(4)) == at(4)  # pages seen before the form
    assert first_touch(at(10), at(12)) == at(10)


def test_the_first_sales_action_follows_reassignments():
    offers = {1: at(1), 5: at(2), 7: at(3)}
    # 1 was reassigned to 2, then to 3, which was accepted on the 6th; 5 was rejected on
    # the 2nd at noon; nobody has acted on 7 (reassigned to 8).
    successor = {1: 2, 2: 3, 7: 8}
    responses = {3: at(6), 5: at(2, 12), 9: at(1)}
    assert first_actions(offers, successor, responses) == {1: at(6), 5: at(2, 12), 7: None}


def test_an_accept_before_a_reassignment_is_the_first_action():
    # Accepted on the 2nd, then given to a colleague who converted it on the 9th.
    assert first_actions({1: at(1)}, {1: 2}, {1: at(2), 2: at(9)}) == {1: at(2)}

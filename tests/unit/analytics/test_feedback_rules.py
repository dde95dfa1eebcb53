"""The sales feedback loop's pure rules: a chain's verdict, the rule version's name, a
recycled lead's return and its windows, yes/no parameters, reason shares (by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nurture.analytics.definitions import Reach
from nurture.analytics.feedback_rules import (
    FeedbackRow,
    Response,
    add_reach,
    came_back,
    chain,
    parse_flag,
    reason_rows,
    rule_version,
    verdict,
)
from nurture.analytics.filters import FilterError


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def test_a_chain_follows_reassignments_and_stops_on_a_loop():
    assert chain(1, {1: 4, 4: 7}) == [1, 4, 7]
    assert chain(2, {}) == [2]
    assert chain(1, {1: 2, 2: 1}) == [1, 2]


def test_the_first_answer_over_the_chain_is_the_verdict():
    responses = {
        4: Response(at(3), "rejected", 4),
        7: Response(at(2), "converted", 7),
    }
    # Handoff 7's convert (Jan 2) came before 4's reject (Jan 3): a convert accepts.
    assert verdict([1, 4, 7], responses) == ("accepted", responses[7])
    assert verdict([1, 4], responses) == ("rejected", responses[4])
    assert verdict([1], responses) == ("waiting", None)


def test_an_accepted_lead_given_back_later_was_accepted():
    responses = {1: Response(at(2), "accepted", 1)}
    # The first answer decides; the later rejection is counted among the reasons instead.
    assert verdict([1], responses)[0] == "accepted"


def test_the_rule_version_names_unknown_versions():
    assert rule_version("hot-lead", 3) == "hot-lead v3"
    assert rule_version("hot-lead", None) == "hot-lead (unknown version)"
    assert rule_version(None, 3) is None


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Back the instant before 30 days: within every window.
        (timedelta(days=30) - timedelta(seconds=1), (1, 1, 1, 1)),
        # Exactly 30 days is no longer "within 30 days" (the cohort view's rule).
        (timedelta(days=30), (1, 0, 1, 1)),
        (timedelta(days=40), (1, 0, 1, 1)),
        (timedelta(days=95), (1, 0, 0, 0)),
    ],
)
def test_a_recycled_lead_came_back_within_the_windows(after, expected):
    reach = came_back(at(1), [at(1) - timedelta(days=5), at(1) + after])
    assert (reach.by_now, reach.within[30], reach.within[60], reach.within[90]) == expected


def test_an_mql_before_the_recycling_is_no_return():
    assert came_back(at(10), [at(1), at(10)]) == Reach()


def test_reaches_add_up():
    total = add_reach(came_back(at(1), [at(2)]), came_back(at(1), [at(1) + timedelta(days=45)]))
    assert (total.by_now, total.within[30], total.within[60]) == (2, 1, 2)


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("yes", True), ("0", False),
                                                 (None, False), (" TRUE ", True)])  # fmt: skip
def test_yes_no_parameters(text, expected):
    assert parse_flag("notes", text) is expected


def test_a_bad_yes_no_parameter_names_itself():
    with pytest.raises(FilterError) as caught:
        parse_flag("notes", "maybe")
    assert list(caught.value.errors) == ["notes"]


def test_reason_shares_are_of_the_groups_month():
    counted = {
        ("b", "2026-01", "no-budget"): 1,
        ("a", "2026-01", "no-budget"): 1,
        ("a", "2026-01", "bad-timing"): 3,
        ("a", "2026-02", "no-budget"): 2,
    }
    rows = reason_rows(counted, {"no-budget": "No budget"}, ["a", "b"])
    assert [(r.group, r.month, r.reason, r.label, r.count, r.share) for r in rows] == [
        ("a", "2026-01", "bad-timing", None, 3, 0.75),
        ("a", "2026-01", "no-budget", "No budget", 1, 0.25),
        ("a", "2026-02", "no-budget", "No budget", 2, 1.0),
        ("b", "2026-01", "no-budget", "No budget", 1, 1.0),
    ]


def test_rates_are_none_when_nothing_was_decided_or_recycled():
    row = FeedbackRow(None, offered=2, waiting=2)
    assert (row.acceptance_rate, row.sla_rate, row.comeback_rate) == (None, None, None)
    row = FeedbackRow(None, offered=4, accepted=1, rejected=3, decided_with_sla=4, decided_in_sla=2)
    assert (row.acceptance_rate, row.sla_rate) == (0.25, 0.5)

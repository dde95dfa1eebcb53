"""The funnel's pure rules: which stages a stage change enters, and the rates."""

from __future__ import annotations

import pytest

from nurture.analytics.definitions import CohortRow, FunnelRow, Reach, entered_stages, rates


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "entered"),
    [
        # One step forward enters that one stage.
        ("lead", "mql", ("mql",)),
        ("mql", "sal", ("sal",)),
        ("opportunity", "customer", ("customer",)),
        # A subscriber that qualifies at once, or an import that says "sql", passed the
        # stages it skipped.
        ("subscriber", "sal", ("mql", "sal")),
        ("lead", "sql", ("mql", "sal", "sql")),
        (None, "customer", ("mql", "sal", "sql", "opportunity", "customer")),
        ("sal", "opportunity", ("sql", "opportunity")),
        # A recycled lead that qualifies again enters mql again, and only mql.
        ("recycled", "mql", ("mql",)),
        # A move back (an import) enters only where it goes.
        ("customer", "sal", ("sal",)),
        # Side exits and the stages before the funnel enter nothing.
        ("mql", "recycled", ()),
        ("sal", "disqualified", ()),
        ("subscriber", "lead", ()),
        ("disqualified", "lead", ()),
    ],
)
def test_a_stage_change_enters_the_stages_it_passes(from_stage, to_stage, entered):
    assert entered_stages(from_stage, to_stage) == entered


def test_rates_are_consecutive_steps_and_the_win_rate_is_over_closed_deals():
    counts = {"leads": 8, "mql": 4, "sal": 3, "sql": 2, "opportunity": 2, "won": 1, "lost": 3}
    assert rates(counts) == {
        "lead_to_mql": 0.5,
        "mql_to_sal": 0.75,
        "sal_to_sql": pytest.approx(2 / 3),
        "sql_to_opportunity": 1.0,
        "opportunity_to_won": 0.5,
        "win_rate": 0.25,
    }


def test_a_rate_with_nothing_to_convert_is_none_not_zero():
    row = FunnelRow(
        None, {"leads": 0, "mql": 2, "sal": 0, "sql": 0, "opportunity": 0, "won": 0, "lost": 0}
    )
    assert row.rates == {
        "lead_to_mql": None,
        "mql_to_sal": 0.0,
        "sal_to_sql": None,
        "sql_to_opportunity": None,
        "opportunity_to_won": None,
        "win_rate": None,
    }


def test_an_empty_cohort_has_no_share_and_plain_values():
    row = CohortRow("2026-01", None, 0, {"mql": Reach()})
    assert row.share("mql") is None
    assert row.as_dict() == {
        "month": "2026-01",
        "group": None,
        "created": 0,
        "reached": {"mql": {"by_now": 0, "within_30d": 0, "within_60d": 0, "within_90d": 0}},
    }

"""The funnel's period and cohort views on the story of ``analytics_support`` (every
expected figure is counted by hand from the table in its docstring)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from nurture.analytics import FilterError, cohort_report, funnel_report, parse_filter
from nurture.handoff import reassign
from nurture.handoff.reps import find_rep
from nurture.leads.lifecycle import change_stage
from nurture.models import Enrollment, Lead
from nurture.platform.db import transaction
from tests.integration.analytics.analytics_support import Story, tell_story
from tests.integration.engine_support import add_lead, enrol, sync_fixture_campaigns
from tests.integration.sales_support import ANN, BEN, hand_off_to, sync_sales_team

TODAY = date(2026, 4, 15)


@pytest.fixture
def story(runtime, tmp_path) -> Story:  # type: ignore[no-untyped-def]
    return tell_story(runtime, tmp_path)


def funnel(runtime, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, **{"start": "2026-01-01", "end": "2026-04-01", **args})
    with runtime.sessions() as session:
        return {row.group: dict(row.counts) for row in funnel_report(session, report).rows}


def cohorts(runtime, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, **{"start": "2026-01-01", "end": "2026-03-01", **args})
    with runtime.sessions() as session:
        return cohort_report(session, report).rows


def counts(leads, mql, sal, sql, opportunity, won, lost):  # type: ignore[no-untyped-def]
    return dict(leads=leads, mql=mql, sal=sal, sql=sql, opportunity=opportunity, won=won, lost=lost)


def test_the_period_view_counts_each_lead_once_per_stage_it_entered(runtime, story):
    # New: L1-L4 (L5 came in December). MQL: L1, L2 (twice: once), L3 (skipped to sql), L4
    # (erased, but its stage changes are kept without their reasons), L5.
    assert funnel(runtime) == {None: counts(4, 5, 3, 2, 1, 1, 1)}
    with runtime.sessions() as session:
        [row] = funnel_report(
            session, parse_filter(today=TODAY, start="2026-01-01", end="2026-04-01")
        ).rows
    assert row.rates == {
        "lead_to_mql": 1.25,  # L5 came before the period and became an MQL in it
        "mql_to_sal": 0.6,
        "sal_to_sql": pytest.approx(2 / 3),
        "sql_to_opportunity": 0.5,
        "opportunity_to_won": 1.0,
        "win_rate": 0.5,
    }


def test_by_month_a_recycled_lead_counts_in_each_month_it_became_an_mql(runtime, story):
    assert funnel(runtime, group_by="month") == {
        "2026-01": counts(2, 2, 1, 0, 0, 0, 0),
        "2026-02": counts(2, 3, 2, 2, 1, 1, 1),
        "2026-03": counts(0, 1, 0, 0, 0, 0, 0),
    }


def test_grouped_by_owner_source_and_segment(runtime, story):
    # The erased L4 keeps its (anonymised) handoff, so it stays Ben's with L5.
    assert funnel(runtime, group_by="owner") == {
        "ann@sales.example": counts(2, 2, 2, 1, 1, 1, 1),
        "ben@sales.example": counts(1, 2, 0, 0, 0, 0, 0),
        None: counts(1, 1, 1, 1, 0, 0, 0),
    }
    # The erased L4 lost its source with its identity: it is counted under none.
    assert funnel(runtime, group_by="source") == {
        "ads": counts(1, 1, 1, 1, 0, 0, 0),
        "partner": counts(0, 1, 0, 0, 0, 0, 0),
        "webinar": counts(2, 2, 2, 1, 1, 1, 1),
        None: counts(1, 1, 0, 0, 0, 0, 0),
    }
    assert funnel(runtime, group_by="segment") == {
        "enterprise": counts(1, 2, 1, 0, 0, 0, 1),
        "smb": counts(2, 2, 1, 1, 1, 1, 0),
        None: counts(1, 1, 1, 1, 0, 0, 0),
    }


def test_filters_narrow_the_leads_counted(runtime, story):
    assert funnel(runtime, campaign="test-drip") == {None: counts(2, 2, 2, 2, 1, 1, 0)}
    assert funnel(runtime, grade="a") == {None: counts(2, 3, 2, 2, 1, 1, 0)}
    assert funnel(runtime, segment="enterprise") == {None: counts(1, 2, 1, 0, 0, 0, 1)}
    assert funnel(runtime, owner="BEN@sales.example") == {None: counts(1, 2, 0, 0, 0, 0, 0)}
    assert funnel(runtime, source="ads", group_by="campaign") == {
        "test-drip": counts(1, 1, 1, 1, 0, 0, 0)
    }


def test_an_owner_and_a_campaign_narrow_and_group_each_other(runtime, story):
    # Of test-drip's L1 (Ann's) and L3 (handed to nobody), only L1 is Ann's.
    assert funnel(runtime, owner="ann@sales.example", group_by="campaign") == {
        "test-drip": counts(1, 1, 1, 1, 1, 1, 0)
    }
    assert funnel(runtime, campaign="test-drip", group_by="owner") == {
        "ann@sales.example": counts(1, 1, 1, 1, 1, 1, 0),
        None: counts(1, 1, 1, 1, 0, 0, 0),
    }


def test_an_empty_period_has_one_row_of_zeros_and_no_rates(runtime, story):
    assert funnel(runtime, start="2025-01-01", end="2025-06-01") == {
        None: counts(0, 0, 0, 0, 0, 0, 0)
    }


def test_filters_naming_nothing_are_refused_with_every_reason(runtime, story):
    report = parse_filter(
        today=TODAY, start=None, end=None, source="tv", campaign="nope", owner="x@y.example",
        segment="galactic",
    )  # fmt: skip
    with runtime.sessions() as session, pytest.raises(FilterError) as caught:
        funnel_report(session, report)
    assert set(caught.value.errors) == {"source", "campaign", "owner", "segment"}
    assert "enterprise, smb" in caught.value.errors["segment"]


def test_the_cohort_view_counts_what_each_months_leads_reached_and_how_soon(runtime, story):
    january, february = cohorts(runtime)
    assert (january.month, january.created, february.month, february.created) == (
        "2026-01",
        2,
        "2026-02",
        2,
    )

    def reach(row, stage):  # type: ignore[no-untyped-def]
        r = row.reached[stage]
        return (r.by_now, r.within[30], r.within[60], r.within[90])

    # L1 (Jan 05): MQL after 5 days, SAL after 7, SQL / opportunity / won after 46.
    # L2 (Jan 20): MQL after 12 days, SAL and lost after 21.
    assert {s: reach(january, s) for s in january.reached} == {
        "mql": (2, 2, 2, 2),
        "sal": (2, 2, 2, 2),
        "sql": (1, 0, 1, 1),
        "opportunity": (1, 0, 1, 1),
        "won": (1, 0, 1, 1),
        "lost": (1, 1, 1, 1),
    }
    # L3 skipped to sql the day after it came; the erased L4 became an MQL the next day.
    assert {s: reach(february, s) for s in february.reached} == {
        "mql": (2, 2, 2, 2),
        "sal": (1, 1, 1, 1),
        "sql": (1, 1, 1, 1),
        "opportunity": (0, 0, 0, 0),
        "won": (0, 0, 0, 0),
        "lost": (0, 0, 0, 0),
    }
    assert january.share("won") == 0.5


def test_cohorts_are_grouped_within_each_month(runtime, story):
    rows = cohorts(runtime, group_by="grade")
    assert [(r.month, r.group, r.created, r.reached["mql"].by_now) for r in rows] == [
        ("2026-01", "A", 1, 1),
        ("2026-01", "B", 1, 1),
        ("2026-01", "C", 0, 0),
        ("2026-02", "A", 1, 1),
        ("2026-02", "B", 0, 0),
        ("2026-02", "C", 1, 1),
    ]


def test_a_window_of_30_days_ends_just_before_the_30th_day_after_creation(runtime):
    created = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    for email, after in (
        ("late@example.com", timedelta(days=30)),
        ("early@example.com", timedelta(days=30) - timedelta(seconds=1)),
    ):
        lead_id = add_lead(runtime, email, created_at=created)
        with transaction(runtime.sessions) as session:
            lead = session.get(Lead, lead_id)
            change_stage(session, lead, "mql", reason="ready", actor="system", now=created + after)
    [row] = cohorts(runtime, end="2026-02-01")
    mql = row.reached["mql"]
    assert (row.created, mql.by_now, mql.within[30], mql.within[60]) == (2, 2, 1, 2)


def test_a_lead_belongs_to_the_rep_of_its_latest_handoff(runtime, tmp_path):
    sync_sales_team(runtime, tmp_path, datetime(2026, 1, 1, tzinfo=UTC))
    handoff_id = hand_off_to(runtime, ANN, "pat@acme.example", datetime(2026, 1, 2, tzinfo=UTC))
    with transaction(runtime.sessions) as session:
        ben = find_rep(session, BEN)
        reassign(
            session, handoff_id, to=ben, reason="", actor="t", now=datetime(2026, 1, 3, tzinfo=UTC)
        )
    # The MQL was made while Ann had it; the lead is Ben's now, and so is the figure.
    assert funnel(runtime, group_by="owner") == {BEN: counts(0, 1, 0, 0, 0, 0, 0)}
    assert funnel(runtime, owner=ANN) == {None: counts(0, 0, 0, 0, 0, 0, 0)}


def test_a_lead_that_entered_a_campaign_twice_counts_once_for_it(runtime):
    sync_fixture_campaigns(runtime, now=datetime(2026, 1, 1, tzinfo=UTC))
    lead_id = add_lead(runtime, "twice@example.com", created_at=datetime(2026, 1, 2, tzinfo=UTC))
    first = enrol(runtime, lead_id, "test-drip", now=datetime(2026, 1, 2, tzinfo=UTC))
    with transaction(runtime.sessions) as session:
        # The drip ran its course (as the engine records a finished enrolment).
        enrollment = session.get(Enrollment, first)
        enrollment.status, enrollment.finished_at = "finished", datetime(2026, 1, 3, tzinfo=UTC)
    second = enrol(runtime, lead_id, "test-drip", now=datetime(2026, 2, 10, tzinfo=UTC))
    with runtime.sessions() as session:
        assert session.get(Enrollment, second).entry_number == 2
    assert funnel(runtime, group_by="campaign") == {"test-drip": counts(1, 0, 0, 0, 0, 0, 0)}

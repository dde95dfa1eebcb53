"""The cost and volume reports on the story of ``costs_support`` (every expected figure is
computed by hand from the tables in its docstring and ``analytics_support``'s)."""

from __future__ import annotations

from datetime import date

import pytest

from nurture.analytics import FilterError, parse_filter
from nurture.analytics.costs import cost_report, volume_report
from tests.integration.analytics.costs_support import tell_story_with_costs

TODAY = date(2026, 4, 15)


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_story_with_costs(runtime, tmp_path)


def costs(runtime, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, **{"start": "2026-01-01", "end": "2026-04-01", **args})
    with runtime.sessions() as session:
        return cost_report(session, report).as_dict()


def rows(result):  # type: ignore[no-untyped-def]
    return {
        ("unattributed" if row["unattributed"] else row["group"]): (
            row["cost"],
            row["leads"],
            row["mql"],
            row["customers"],
            row["cost_per_lead"],
            row["cost_per_mql"],
            row["cost_per_customer"],
        )
        for row in result["rows"]
    }


def test_the_whole_period_sets_every_cost_against_the_funnels_counts(runtime, story):
    result = costs(runtime)
    # 600 + 300 + 90 + 310 + 100 + 50: costs that covered no lead still count in the total.
    assert result["total_cost"] == 1450.0
    assert result["currency"] == "EUR"
    # The funnel's Jan-Mar figures: 4 leads, 5 MQLs, 1 won.
    assert rows(result) == {None: (1450.0, 4, 5, 1, 362.5, 290.0, 1450.0)}


def test_by_source_each_entry_lands_on_its_source(runtime, story):
    assert rows(costs(runtime, group_by="source")) == {
        # C1 600 + C6 50 (its only lead, L1, is a webinar lead) + C4 310 (no lead, names it)
        "webinar": (960.0, 2, 2, 1, 480.0, 480.0, 960.0),
        # C2 300 + C3 90 (L3 is an ads lead); no customer: the cost per customer is empty
        "ads": (390.0, 1, 1, 0, 390.0, 390.0, None),
        # C5 covered nobody, but it names the partner source; L5 became an MQL in January
        "partner": (100.0, 0, 1, 0, None, 100.0, None),
        # The erased L4: counted by the funnel, matched by no cost
        None: (0.0, 1, 1, 0, 0.0, 0.0, None),
    }


def test_by_campaign_source_costs_follow_their_leads_and_the_rest_is_unattributed(runtime, story):
    assert rows(costs(runtime, group_by="campaign")) == {
        # C3 90 + C6 50, plus L1's half of C1 (300) and all of C2 (L3): 740
        "test-drip": (740.0, 2, 2, 1, 370.0, 370.0, 740.0),
        # C4 310 and C5 100 covered nobody and name no campaign
        "unattributed": (410.0, 0, 0, 0, None, None, None),
    }
    # L2's half of C1 (300) is in no campaign's row, but in the total.
    assert costs(runtime, group_by="campaign")["total_cost"] == 1450.0


def test_by_month_each_entry_lands_on_its_month(runtime, story):
    assert rows(costs(runtime, group_by="month")) == {
        "2026-01": (750.0, 2, 2, 0, 375.0, 375.0, None),  # C1 600 + C6 50 + C5 100
        "2026-02": (390.0, 2, 3, 1, 195.0, 130.0, 390.0),  # C2 300 + C3 90
        "2026-03": (310.0, 0, 1, 0, None, 310.0, None),  # C4, nobody created in March
    }


def test_a_period_that_cuts_months_shares_their_costs_by_days(runtime, story):
    # 16 January to 14 February: 16 of January's 31 days, 14 of February's 28.
    result = costs(runtime, start="2026-01-16", end="2026-02-15")
    # C1 600·16/31 = 309.677 (covers L2 only now); C6 50·16/31 = 25.806 and C5 100·16/31
    # = 51.613 cover nobody; C2 300·14/28 = 150 and C3 90·14/28 = 45 cover L3. C4: March.
    assert result["total_cost"] == 582.10
    # Leads: L2 (Jan 20), L3 (Feb 3); 582.0968 / 2 = 291.048
    [row] = result["rows"]
    assert (row["cost"], row["leads"], row["cost_per_lead"]) == (582.1, 2, 291.05)


def test_filters_keep_the_shares_of_the_leads_they_keep(runtime, story):
    # Webinar: C1 (L1, L2), C6 (L1), and C4 which covered nobody but names webinar.
    assert costs(runtime, source="webinar")["total_cost"] == 960.0
    # Grade A leads are L1, L3, L5: half of C1, C6, C2, C3; costs that covered nobody
    # have no grade, so they are left out.
    assert costs(runtime, grade="A")["total_cost"] == 740.0


def test_a_filter_naming_nothing_is_refused(runtime, story):
    with pytest.raises(FilterError) as caught:
        costs(runtime, source="radio")
    assert "source" in caught.value.errors


def volume(runtime, interval, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, **{"start": "2026-01-01", "end": "2026-04-01", **args})
    with runtime.sessions() as session:
        result = volume_report(session, report, interval)
    return {(row.period, row.group): row.leads for row in result.rows if row.leads}, result


def test_volume_counts_new_leads_per_month_week_and_day(runtime, story):
    counted, result = volume(runtime, "month")
    assert counted == {("2026-01", None): 2, ("2026-02", None): 2}
    assert [row.period for row in result.rows] == ["2026-01", "2026-02", "2026-03"]
    # ISO weeks start on Monday: L1 Mon 5 Jan, L2 Tue 20 Jan, L3 Tue 3 Feb, L4 Sun 15 Feb.
    counted, result = volume(runtime, "week")
    assert counted == {
        ("2026-01-05", None): 1,
        ("2026-01-19", None): 1,
        ("2026-02-02", None): 1,
        ("2026-02-09", None): 1,
    }
    # The period starts on Thursday 1 January: its first week is named by its Monday.
    assert result.rows[0].period == "2025-12-29"
    assert len(result.rows) == 14  # the weeks of 29 Dec to 30 Mar
    counted, result = volume(runtime, "day")
    assert counted[("2026-01-05", None)] == 1
    assert len(result.rows) == 90  # every day of January to March, 0 where nobody came


def test_volume_by_source_and_campaign(runtime, story):
    counted, _ = volume(runtime, "month", group_by="source")
    # The erased L4 lost its source: it counts under none.
    assert counted == {
        ("2026-01", "webinar"): 2,
        ("2026-02", "ads"): 1,
        ("2026-02", None): 1,
    }
    counted, _ = volume(runtime, "month", group_by="campaign")
    assert counted == {("2026-01", "test-drip"): 1, ("2026-02", "test-drip"): 1}


def test_an_unknown_interval_is_refused(runtime, story):
    with pytest.raises(FilterError) as caught:
        volume(runtime, "year")
    assert "interval" in caught.value.errors

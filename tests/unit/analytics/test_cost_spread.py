"""How entries are spread over a report's groups (pure), on plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from nurture.analytics.costs.spread import CoveredCost, spread_costs
from nurture.analytics.filters import ReportFilter

PERIOD = {"start": date(2026, 1, 1), "end": date(2026, 4, 1)}


def entry(amount: str, everyone: int, kept: int, groups=None, **names):  # type: ignore[no-untyped-def]
    return CoveredCost(
        month=names.get("month", "2026-01"),
        source=names.get("source", ""),
        campaign=names.get("campaign", ""),
        amount=Decimal(amount),
        everyone=everyone,
        kept=kept,
        groups=groups or {None: kept},
    )


def test_an_entry_is_shared_equally_by_the_leads_it_covers():
    # 600 over 3 leads: 2 in ads (400), 1 in webinar (200).
    spread = spread_costs(
        [entry("600", 3, 3, {"ads": 2, "webinar": 1})], ReportFilter(**PERIOD, group_by="source")
    )
    assert spread.by_group == {"ads": Decimal(400), "webinar": Decimal(200)}
    assert spread.total == 600


def test_a_filter_keeps_the_shares_of_the_leads_it_keeps():
    # 90 over 3 leads, of which the filter keeps 1: 30.
    spread = spread_costs([entry("90", 3, 1)], ReportFilter(**PERIOD, grade="A"))
    assert (spread.by_group, spread.total) == ({None: Decimal(30)}, Decimal(30))


def test_an_entry_covering_nobody_lands_on_what_it_names_or_is_unattributed():
    nobody = entry("310", 0, 0, {}, source="webinar", month="2026-03")
    by_source = spread_costs([nobody], ReportFilter(**PERIOD, group_by="source"))
    assert (by_source.by_group, by_source.unattributed) == ({"webinar": Decimal(310)}, 0)
    by_month = spread_costs([nobody], ReportFilter(**PERIOD, group_by="month"))
    assert by_month.by_group == {"2026-03": Decimal(310)}
    by_campaign = spread_costs([nobody], ReportFilter(**PERIOD, group_by="campaign"))
    assert (by_campaign.by_group, by_campaign.unattributed) == ({}, Decimal(310))
    assert by_campaign.total == 310
    # Ungrouped, it is simply part of the one row.
    assert spread_costs([nobody], ReportFilter(**PERIOD)).by_group == {None: Decimal(310)}


def test_an_entry_covering_nobody_is_left_out_by_a_filter_it_cannot_match():
    nobody = entry("100", 0, 0, {}, source="partner")
    for report in (
        ReportFilter(**PERIOD, source="webinar"),
        ReportFilter(**PERIOD, campaign="test-drip"),
        ReportFilter(**PERIOD, owner="ann@sales.example"),
        ReportFilter(**PERIOD, grade="A"),
        ReportFilter(**PERIOD, segment="smb"),
    ):
        assert spread_costs([nobody], report).total == 0
    assert spread_costs([nobody], ReportFilter(**PERIOD, source="partner")).total == 100

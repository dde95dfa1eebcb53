"""CLV and attribution on the story of ``revenue_support`` (every expected figure is
counted by hand from the table in its docstring)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from nurture.analytics import FilterError, parse_filter
from nurture.analytics.attribution import ATTRIBUTION_BY, attribution_report, explain_deal
from nurture.analytics.clv import clv_report
from tests.integration.analytics.revenue_support import (
    PERIOD,
    RevenueStory,
    mark_erased,
    tell_revenue_story,
)

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def story(runtime, tmp_path) -> RevenueStory:  # type: ignore[no-untyped-def]
    return tell_revenue_story(runtime, tmp_path)


def clv(runtime, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, **{**PERIOD, **args})
    with runtime.sessions() as session:
        return clv_report(session, report, now=NOW)


def clv_rows(runtime, **args):  # type: ignore[no-untyped-def]
    return {
        row.group: (
            row.customers,
            str(row.revenue),
            None if row.average_clv is None else str(row.average_clv),
            row.customers_in_other_currencies,
            {code: str(v) for code, v in row.other_currencies.items()},
        )
        for row in clv(runtime, **args).rows
    }


def attribution(runtime, lookback=365, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, groupings=ATTRIBUTION_BY, **{**PERIOD, **args})
    with runtime.sessions() as session:
        return attribution_report(session, report, lookback_days=lookback)


def credited(runtime, **args):  # type: ignore[no-untyped-def]
    return {
        row.group: (
            row.deals,
            *(str(row.revenue[m]) for m in ("first", "last", "linear", "u-shaped")),
        )
        for row in attribution(runtime, **args).rows
    }


def test_each_customer_has_its_revenue_to_date_and_months_as_customer(runtime, story):
    report = clv(runtime)
    assert report.currency == "EUR"  # the team file's
    customers = {c.name: (str(c.since), c.months, c.deals, c.entries, str(c.revenue),
                          {k: str(v) for k, v in c.other_currencies.items()})
                 for c in report.customers}  # fmt: skip
    assert customers == {
        # 1000 won Feb 10 + 1200 + 300; the 999 of Apr 10 is after the period's end.
        # Feb 10 → Apr 01: one whole month.
        "alpha.example": ("2026-02-10", 1, 1, 2, "2500.00", {}),
        # Its renewal is in GBP: apart, never added to the 600 EUR.
        "beta.example": ("2026-03-02", 0, 1, 1, "600.00", {"GBP": "100.00"}),
        # No account: the lead is its own customer.
        "p3@solo.example": ("2026-03-10", 0, 1, 0, "333.33", {}),
        "gamma.example": ("2026-03-15", 0, 1, 0, "0.00", {"USD": "500.00"}),
        # P5 was erased: the account stays a customer with its deal's value.
        "delta.example": ("2026-01-25", 2, 1, 0, "200.00", {}),
        # Revenue entries only: a customer since its first entry.
        "epsilon.example": ("2026-02-15", 1, 0, 1, "50.00", {}),
    }


def test_average_clv_counts_the_customers_wholly_in_the_report_currency(runtime, story):
    # 2500 + 600 + 333.33 + 0 + 200 + 50 = 3683.33; the average leaves out beta (GBP too)
    # and gamma (USD): (2500 + 333.33 + 200 + 50) / 4 = 770.8325 → 770.83.
    assert clv_rows(runtime) == {
        None: (6, "3683.33", "770.83", 2, {"GBP": "100.00", "USD": "500.00"})
    }


def test_average_clv_by_source_and_by_segment(runtime, story):
    # Sources of the first won deal's lead: P1 webinar, P4 ads; P2 and P3 have none, the
    # erased P5's was cleared, and epsilon has no deal (no lead).
    assert clv_rows(runtime, group_by="source") == {
        "ads": (1, "0.00", None, 1, {"USD": "500.00"}),
        "webinar": (1, "2500.00", "2500.00", 0, {}),
        # 600 + 333.33 + 200 + 50; the average of 333.33, 200 and 50 is 194.443….
        None: (4, "1183.33", "194.44", 1, {"GBP": "100.00"}),
    }
    # enterprise: beta (5000), delta (2000); smb: alpha (300), gamma (50); P3 has no
    # account and epsilon no lead. (333.33 + 50) / 2 = 191.665 → 191.67 (half up).
    assert clv_rows(runtime, group_by="segment") == {
        "enterprise": (2, "800.00", "200.00", 1, {"GBP": "100.00"}),
        "smb": (2, "2500.00", "2500.00", 1, {"USD": "500.00"}),
        None: (2, "383.33", "191.67", 0, {}),
    }
    by_month = clv_rows(runtime, group_by="month")
    assert {month: row[0] for month, row in by_month.items()} == {
        "2026-01": 1,  # delta
        "2026-02": 2,  # alpha, epsilon
        "2026-03": 3,  # beta, P3, gamma
    }


def test_a_lead_filter_leaves_out_customers_without_a_deal(runtime, story):
    assert clv_rows(runtime, source="webinar") == {None: (1, "2500.00", "2500.00", 0, {})}
    assert clv_rows(runtime, grade="A") == {
        # alpha (P1), P3, delta (P5); epsilon has no lead to have a grade.
        None: (3, "3033.33", "1011.11", 0, {})
    }


def test_another_report_currency_puts_the_others_apart(runtime, story):
    report = parse_filter(today=TODAY, **PERIOD)
    with runtime.sessions() as session:
        result = clv_report(session, report, currency="USD", now=NOW)
    [row] = result.rows
    # Only gamma's 500 is in USD; every EUR amount (3683.33) and beta's GBP are apart.
    assert (row.customers, str(row.revenue), str(row.average_clv)) == (6, "500.00", "500.00")
    assert row.other_currencies == {"EUR": Decimal("3683.33"), "GBP": Decimal("100.00")}


def test_attribution_by_campaign_under_each_model(runtime, story):
    # Four deals in EUR: P5 200 (one page view), P1 1000 (source, click test-drip, page,
    # click webinar-invite: the machine click is no touch), P2 600 (click test-drip, click
    # webinar-invite), P3 333.33 (no touch). P4's 500 USD is apart.
    result = attribution(runtime, group_by="campaign")
    assert (result.deals, str(result.revenue)) == (4, "2133.33")
    assert result.other_currencies == {"USD": {"deals": 1, "revenue": "500.00"}}
    #            deals  first     last       linear    u-shaped
    assert credited(runtime, group_by="campaign") == {
        # P2's first touch (600); linear P1 250 + P2 300; U P1 100 + P2 300.
        "test-drip": (2, "600.00", "0.00", "550.00", "400.00"),
        # last P1 1000 + P2 600; linear 250 + 300; U P1 400 + P2 300.
        "webinar-invite": (2, "0.00", "1600.00", "550.00", "700.00"),
        "(no touch)": (1, "333.33", "333.33", "333.33", "333.33"),
        # Touches in no campaign: P5's page (200 in every model), P1's source and page
        # (first 1000; linear 250 + 250; U 400 + 100).
        None: (2, "1200.00", "200.00", "700.00", "700.00"),
    }


def test_attribution_by_channel_and_by_source(runtime, story):
    assert credited(runtime, group_by="channel") == {
        "email": (2, "600.00", "1600.00", "1100.00", "1100.00"),
        "page": (2, "200.00", "200.00", "450.00", "300.00"),
        "source": (1, "1000.00", "0.00", "250.00", "400.00"),
        "(no touch)": (1, "333.33", "333.33", "333.33", "333.33"),
    }
    # A touch's source is its link's utm_source, else the lead's: P1's page came from the
    # newsletter, its other touches from the webinar; P2 has no source, and the erased P5's
    # page lost its address.
    assert credited(runtime, group_by="source") == {
        "newsletter": (1, "0.00", "0.00", "250.00", "100.00"),
        "webinar": (1, "1000.00", "1000.00", "750.00", "900.00"),
        "(no touch)": (1, "333.33", "333.33", "333.33", "333.33"),
        None: (2, "800.00", "800.00", "800.00", "800.00"),
    }
    # Ungrouped: every model gives the whole.
    assert credited(runtime) == {None: (4, *["2133.33"] * 4)}


def test_the_filters_and_the_look_back_narrow_the_deals_and_touches(runtime, story):
    assert credited(runtime, group_by="campaign", source="webinar") == {
        "test-drip": (1, "0.00", "0.00", "250.00", "100.00"),
        "webinar-invite": (1, "0.00", "1000.00", "250.00", "400.00"),
        None: (1, "1000.00", "0.00", "500.00", "500.00"),
    }
    # 30 days before Feb 10 09:00: P1's page (Jan 20) and click (Feb 01) only.
    result = credited(runtime, lookback=30, group_by="channel", source="webinar")
    assert result == {
        "email": (1, "0.00", "1000.00", "500.00", "500.00"),
        "page": (1, "1000.00", "0.00", "500.00", "500.00"),
    }


def test_each_deal_is_explained_touch_by_touch(runtime, story):
    with runtime.sessions() as session:
        credit = explain_deal(session, story.deals["P1"])
    body = credit.as_dict()
    assert body["lead"] == "p1@alpha.example" and body["value"] == "1000.00"
    assert [(t["channel"], t["campaign"], t["step"], t["source"]) for t in body["touches"]] == [
        ("source", None, None, "webinar"),
        ("email", "test-drip", "t/s1", "webinar"),
        ("page", None, None, "newsletter"),
        ("email", "webinar-invite", "t/s2", "webinar"),
    ]
    assert [t["share"]["u-shaped"] for t in body["touches"]] == [0.4, 0.1, 0.1, 0.4]
    assert [t["amount"]["u-shaped"] for t in body["touches"]] == [
        "400.00", "100.00", "100.00", "400.00"
    ]  # fmt: skip
    assert [t["amount"]["linear"] for t in body["touches"]] == ["250.00"] * 4
    assert [t["amount"]["first"] for t in body["touches"]] == ["1000.00", "0.00", "0.00", "0.00"]

    with runtime.sessions() as session:
        none = explain_deal(session, story.deals["P3"]).as_dict()
        erased = explain_deal(session, story.deals["P5"]).as_dict()
    assert [(t["channel"], t["amount"]["last"]) for t in none["touches"]] == [
        ("(no touch)", "333.33")
    ]
    assert erased["lead"] == "(erased)" and "p5@" not in str(erased)


def test_a_deal_that_is_not_won_or_a_filter_naming_nothing_is_an_error(runtime, story):
    with runtime.sessions() as session, pytest.raises(FilterError) as raised:
        explain_deal(session, 999999)
    assert raised.value.errors == {"deal": "handoff 999999 is not a won deal"}
    with pytest.raises(FilterError, match="source"):
        attribution(runtime, source="tv")


DOCS = Path(__file__).resolve().parents[3] / "docs" / "analytics.md"


def markdown_table(after: str, header_start: str) -> list[list[str]]:
    """The cells of the first table after the heading ``after`` whose header row starts
    with ``header_start``."""
    text = DOCS.read_text(encoding="utf-8").split(after, 1)[1]
    lines = text.split(f"| {header_start}", 1)[1].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_docs_worked_examples_are_the_reports_figures(runtime, story):
    # docs/analytics.md, "Attribution", worked example: the --by campaign table.
    documented = {
        (None if row[0] == "-" else row[0]): (int(row[1]), *row[2:])
        for row in markdown_table("## Attribution", "group | deals")
    }
    assert documented == credited(runtime, group_by="campaign")
    # "Revenue and CLV", worked example: each customer's since, months and revenue.
    customers = {
        row[0]: (row[1], int(row[2]), row[3].split(" ")[0])
        for row in markdown_table("## Revenue and CLV", "customer | since")
    }
    assert customers == {
        c.name: (c.since.isoformat(), c.months, str(c.revenue)) for c in clv(runtime).customers
    }


def test_an_erased_customer_without_an_account_counts_without_its_identity(runtime, story):
    mark_erased(runtime, story.leads["P3"], datetime(2026, 3, 20, tzinfo=UTC))
    names = {c.name: str(c.revenue) for c in clv(runtime).customers}
    assert names["(erased)"] == "333.33" and "p3@solo.example" not in names
    assert clv_rows(runtime)[None][:3] == (6, "3683.33", "770.83")  # the same totals
    with runtime.sessions() as session:
        assert explain_deal(session, story.deals["P3"]).as_dict()["lead"] == "(erased)"

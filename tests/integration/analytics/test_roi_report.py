"""ROI per campaign and per source on the story of ``roi_support`` (every expected figure is
counted by hand from the tables in its docstring)."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest

from nurture.analytics import FilterError, parse_filter
from nurture.analytics.attribution import ATTRIBUTION_BY, attribution_report
from nurture.analytics.attribution_rules import MODELS
from nurture.analytics.costs import cost_report
from nurture.analytics.roi import ROI_BY, roi_report, roi_table
from tests.integration.analytics.revenue_support import PERIOD
from tests.integration.analytics.roi_support import ROI_COSTS, tell_roi_story

TODAY = date(2026, 12, 1)


@pytest.fixture
def story(runtime, tmp_path):  # type: ignore[no-untyped-def]
    return tell_roi_story(runtime, tmp_path)


def roi(runtime, models=("u-shaped",), currency=None, **args):  # type: ignore[no-untyped-def]
    report = parse_filter(today=TODAY, groupings=ROI_BY, **{**PERIOD, "group_by": "campaign",
                                                            **args})  # fmt: skip
    with runtime.sessions() as session:
        return roi_report(session, report, models=tuple(models), currency=currency)


def figures(result, model):  # type: ignore[no-untyped-def]
    return [
        (row.group, row.kind, f"{row.cost:.2f}", row.deals, f"{row.revenue[model]:.2f}",
         row.roi[model], row.roas[model])
        for row in [*result.rows, result.total]
    ]  # fmt: skip


def test_by_campaign_u_shaped_sets_each_campaigns_cost_against_its_credited_revenue(runtime, story):
    result = roi(runtime)
    assert result.currency == "EUR"
    # U-shaped: P5's two touches 50/50 (page 100, partner-news 100); P1's four 40/10/10/40
    # (creation 400, test-drip 100, page 100, webinar-invite 400); P2's two 50/50 (test-drip
    # 300, webinar-invite 300); P3 none: 333.33 to (no touch). The scanners' clicks (P1's
    # Jan 12, P2's Feb 05 on webinar-invite) are no touches, and P5, erased, still counts.
    assert figures(result, "u-shaped") == [
        # Revenue and no cost: no ROI (never infinity).
        ("partner-news", "group", "0.00", 1, "100.00", None, None),
        # K1 250 against 100 + 300: (400 − 250) / 250 = 0.6, ROAS 1.6.
        ("test-drip", "group", "250.00", 2, "400.00", 0.6, 1.6),
        # K2 300 (it covered nobody, but names the campaign) against 400 + 300: 400 / 300.
        ("webinar-invite", "group", "300.00", 2, "700.00", 1.3333, 2.3333),
        ("(no touch)", "no_touch", "0.00", 1, "333.33", None, None),
        # Touches that are no campaign email: P5's page, P1's creation and page.
        (None, "group", "0.00", 2, "600.00", None, None),
        # K3 names a source and covered nobody: the cost report's unattributed row.
        (None, "unattributed", "200.00", 0, "0.00", None, None),
        # K4 covered P4, who is in no campaign: in no row of the cost report, in its total.
        (None, "rest", "150.00", 0, "0.00", None, None),
        # 900 against the four EUR deals' 2133.33: 1233.33 / 900 = 1.370366…
        (None, "total", "900.00", 4, "2133.33", 1.3704, 2.3704),
    ]
    assert result.other_currencies == {"USD": {"deals": 1, "revenue": "500.00"}}


def test_by_campaign_under_first_touch_and_last_touch(runtime, story):
    result = roi(runtime, models=("first", "last"))
    first = {row[0]: row[4:] for row in figures(result, "first") if row[1] == "group"}
    last = {row[0]: row[4:] for row in figures(result, "last") if row[1] == "group"}
    # First: P5's page and P1's creation (no campaign), P2's test-drip click.
    assert first["test-drip"] == ("600.00", 1.4, 2.4)  # 350 / 250
    assert first["webinar-invite"] == ("0.00", -1.0, 0.0)  # spent 300, credited nothing
    assert first["partner-news"] == ("0.00", None, None)  # touched a deal, no cost
    # Last: P5's partner-news click, P1's and P2's webinar-invite clicks.
    assert last["test-drip"] == ("0.00", -1.0, 0.0)
    assert last["webinar-invite"] == ("1600.00", 4.3333, 5.3333)  # 1300 / 300
    assert last["partner-news"] == ("200.00", None, None)


def test_by_source_the_touch_source_meets_the_cost_of_the_same_source(runtime, story):
    result = roi(runtime, group_by="source")
    assert figures(result, "u-shaped") == [
        # K4 covered P4, whose 500 USD deal is apart: nothing credited in EUR.
        ("ads", "group", "150.00", 0, "0.00", -1.0, 0.0),
        # P1's page came from ?utm_source=newsletter: 10 % of 1000, no cost.
        ("newsletter", "group", "0.00", 1, "100.00", None, None),
        # K1 (P1, from webinar) 250 + K3 (names webinar) 200 = 450 against P1's creation
        # 400 and its two clicks 100 + 400 (the lead's source: the links had no utm_source).
        ("webinar", "group", "450.00", 1, "900.00", 1.0, 2.0),
        ("(no touch)", "no_touch", "0.00", 1, "333.33", None, None),
        # No source: P5's touches (erased) 200 and P2's clicks 600.
        (None, "group", "0.00", 2, "800.00", None, None),
        # K2 names only a campaign and covered nobody.
        (None, "unattributed", "300.00", 0, "0.00", None, None),
        (None, "total", "900.00", 4, "2133.33", 1.3704, 2.3704),
    ]


@pytest.mark.parametrize("by", [*ROI_BY, "none"])
@pytest.mark.parametrize("extra", [{}, {"grade": "A"}, {"source": "webinar"}])
def test_the_totals_are_the_cost_and_attribution_reports_totals(runtime, story, by, extra):
    ours = roi(runtime, models=MODELS, group_by=by, **extra)
    report = parse_filter(today=TODAY, groupings=ATTRIBUTION_BY, **{**PERIOD, "group_by": by,
                                                                    **extra})  # fmt: skip
    with runtime.sessions() as session:
        costs = cost_report(session, report)
        revenue = attribution_report(session, report, models=MODELS)
    assert ours.total.cost == costs.total_cost
    assert ours.total.deals == revenue.deals
    for model in MODELS:
        assert ours.total.revenue[model] == revenue.revenue
        # Nothing dropped: the rows add up to the totals.
        assert sum(row.revenue[model] for row in ours.rows) == revenue.revenue
    assert sum(row.cost for row in ours.rows) == costs.total_cost


def test_a_filter_narrows_both_sides_alike(runtime, story):
    # Grade A: P1, P3, P5. Costs: K1 covers P1 (250); K4 covers P4 (grade C); K2 and K3
    # cover nobody, so a grade filter leaves them out. Deals: 1000 + 333.33 + 200.
    total = roi(runtime, grade="A").total
    assert (f"{total.cost:.2f}", total.deals, f"{total.revenue['u-shaped']:.2f}") == (
        "250.00",
        3,
        "1533.33",
    )
    assert total.roi == {"u-shaped": 5.1333}  # (1533.33 − 250) / 250 = 5.13332


def test_costs_in_another_currency_than_the_revenue_are_refused(runtime, story):
    with pytest.raises(FilterError) as caught:
        roi(runtime, currency="USD")
    assert set(caught.value.errors) == {"currency"}
    assert "EUR" in caught.value.errors["currency"]
    assert "USD" in caught.value.errors["currency"]


def test_costs_in_another_currency_than_the_teams_are_refused_without_currency(runtime, tmp_path):
    # The team's currency is EUR (revenue's default); this costs file is in USD.
    tell_roi_story(runtime, tmp_path, costs=ROI_COSTS.replace("currency: EUR", "currency: USD"))
    with pytest.raises(FilterError) as caught:
        roi(runtime)
    assert caught.value.errors["currency"].startswith(
        "the costs are in USD but revenue would be in EUR (the sales team's currency)"
    )
    # Asked for in USD, the two sides meet: the one USD deal (P4, 500, its source only:
    # ads) against K4's 150 on ads; the EUR deals are apart.
    ads = next(row for row in roi(runtime, currency="USD", group_by="source").rows
               if row.group == "ads")  # fmt: skip
    assert (f"{ads.cost:.2f}", ads.deals, f"{ads.revenue['u-shaped']:.2f}") == (
        "150.00",
        1,
        "500.00",
    )
    assert ads.roi == {"u-shaped": 2.3333}  # (500 − 150) / 150


def test_revenue_without_any_cost_has_no_roi_but_its_revenue(runtime, tmp_path):
    tell_roi_story(runtime, tmp_path, costs="currency: EUR\ncosts: []\n")
    result = roi(runtime)
    assert result.total.cost == 0
    assert result.total.roi == {"u-shaped": None}
    assert [row.kind for row in result.rows if row.kind != "group"] == ["no_touch"]


def test_the_table_has_the_labels_and_the_total_last(runtime, story):
    header, rows = roi_table(roi(runtime, models=("linear",)))
    assert header == ["group", "cost", "deals", "linear_revenue", "linear_roi", "linear_roas"]
    assert [row[0] for row in rows] == [
        "partner-news",
        "test-drip",
        "webinar-invite",
        "(no touch)",
        None,
        "(no lead matched)",
        "(outside the groups)",
        "total",
    ]
    # Linear: test-drip P1's 250 + P2's 300 = 550 against 250; webinar-invite 550 vs 300.
    assert rows[1] == ["test-drip", "250.00", 2, "550.00", 1.2, 2.2]
    assert rows[2] == ["webinar-invite", "300.00", 2, "550.00", 0.8333, 1.8333]
    assert rows[-1] == ["total", "900.00", 4, "2133.33", 1.3704, 2.3704]


DOCS = Path(__file__).resolve().parents[3] / "docs" / "analytics.md"


def markdown_table(after: str, header_start: str) -> list[list[str]]:
    """The cells of the first table after ``after`` (in the section "ROI") whose header
    starts with ``header_start``."""
    text = DOCS.read_text(encoding="utf-8").split("\n## ROI\n", 1)[1].split(after, 1)[1]
    lines = text.split(f"| {header_start}", 1)[1].splitlines()[2:]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in itertools.takewhile(lambda line: line.startswith("|"), lines)
    ]


def shown(header, row):  # type: ignore[no-untyped-def]
    """A table row as the CLI's table prints it."""
    cells = []
    for name, cell in zip(header, row, strict=True):
        if cell is None:
            cells.append("-")
        elif name.endswith("_roi"):
            cells.append(f"{cell:+.1%}")
        elif name.endswith("_roas"):
            cells.append(f"{cell:.2f}x")
        else:
            cells.append(str(cell))
    return cells


@pytest.mark.parametrize(("by", "after"), [("campaign", "U-shaped, `--by campaign`"),
                                           ("source", "U-shaped, `--by source`")])  # fmt: skip
def test_the_docs_worked_example_is_the_reports_figures(runtime, story, by, after):
    header, rows = roi_table(roi(runtime, group_by=by))
    documented = markdown_table(after, "group | cost")
    assert documented == [shown(header, row) for row in rows]

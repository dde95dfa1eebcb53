"""ROI's pure rules: ROI and ROAS to four decimals from the amounts to the cent, None when
nothing was spent, and the rows of the two reports set side by side with nothing dropped
(every expectation by hand)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from nurture.analytics.roi_rules import (
    GROUP,
    NO_TOUCH_KIND,
    REST,
    TOTAL,
    UNATTRIBUTED,
    RevenueLine,
    roas,
    roi,
    roi_lines,
    roi_total,
)


@pytest.mark.parametrize(
    ("revenue", "cost", "expected_roi", "expected_roas"),
    [
        (D("400"), D("250"), 0.6, 1.6),  # (400 − 250) / 250; 400 / 250
        (D("0"), D("150"), -1.0, 0.0),  # all of it lost
        (D("250"), D("250"), 0.0, 1.0),  # broke even
        (D("700"), D("300"), 1.3333, 2.3333),  # 400 / 300 = 1.33333…; 7/3 = 2.33333…
        (D("2"), D("3"), -0.3333, 0.6667),  # −1/3; 2/3 = 0.66666… rounds up
        # A cost of 16/31 of 600 is 309.677…: the shown 309.68 is what is divided.
        (D("309.68"), D("600") * 16 / 31, 0.0, 1.0),
    ],
)
def test_roi_and_roas_are_computed_from_the_amounts_to_the_cent(
    revenue, cost, expected_roi, expected_roas
):
    assert roi(revenue, cost) == expected_roi
    assert roas(revenue, cost) == expected_roas


@pytest.mark.parametrize("cost", [D("0"), D("0.004")])
def test_nothing_spent_has_no_roi_never_infinity(cost):
    # 0.004 rounds to 0.00: nothing shown as spent, so nothing to divide by.
    assert roi(D("100"), cost) is None
    assert roas(D("100"), cost) is None


MODELS = ("first", "u-shaped")


def lines(**overrides):  # type: ignore[no-untyped-def]
    args = {
        "models": MODELS,
        "costs": {"test-drip": D("250"), "webinar-invite": D("300"), None: D("0")},
        "unattributed": D("200"),
        "total_cost": D("900"),
        "revenue": [
            RevenueLine("test-drip", 2, {"first": D("600"), "u-shaped": D("400")}),
            RevenueLine("webinar-invite", 2, {"first": D("0"), "u-shaped": D("700")}),
            RevenueLine("(no touch)", 1, {"first": D("333.33"), "u-shaped": D("333.33")}),
            RevenueLine(None, 2, {"first": D("1200"), "u-shaped": D("600")}),
        ],
        "no_touch": "(no touch)",
    }
    return roi_lines(**{**args, **overrides})


def test_the_rows_of_both_reports_are_kept_and_add_up():
    rows = lines()
    # 250 + 300 + 200 unattributed = 750: the cost report's total of 900 leaves 150 in no row
    # (grouped by campaign: the leads in no campaign), shown as the rest.
    assert [(r.group, r.kind, str(r.cost), r.deals) for r in rows] == [
        ("test-drip", GROUP, "250", 2),
        ("webinar-invite", GROUP, "300", 2),
        ("(no touch)", NO_TOUCH_KIND, "0", 1),
        (None, GROUP, "0", 2),
        (None, UNATTRIBUTED, "200", 0),
        (None, REST, "150", 0),
    ]
    assert sum(r.cost for r in rows) == D("900")
    # Every revenue line is a row: 600 + 0 + 333.33 + 1200; 400 + 700 + 333.33 + 600.
    for model, total in (("first", D("2133.33")), ("u-shaped", D("2033.33"))):
        assert sum(r.revenue[model] for r in rows) == total
    assert [r.roi for r in rows] == [
        {"first": 1.4, "u-shaped": 0.6},  # (600 − 250) / 250; (400 − 250) / 250
        {"first": -1.0, "u-shaped": 1.3333},  # (0 − 300) / 300; 400 / 300
        {"first": None, "u-shaped": None},  # no cost
        {"first": None, "u-shaped": None},
        # Costs the revenue cannot be credited to have no ratio: not a −100 % return.
        {"first": None, "u-shaped": None},
        {"first": None, "u-shaped": None},
    ]
    assert rows[0].roas == {"first": 2.4, "u-shaped": 1.6}


def test_a_group_with_only_a_cost_or_only_revenue_is_a_row_and_empty_groups_are_not():
    rows = lines(
        costs={"spring": D("80"), "quiet": D("0")},
        unattributed=D("0"),
        total_cost=D("80"),
        revenue=[
            RevenueLine("partner-news", 1, {"first": D("100"), "u-shaped": D("100")}),
            RevenueLine("idle", 0, {"first": D("0"), "u-shaped": D("0")}),
        ],
    )
    # Named groups by name; "quiet" (no cost) and "idle" (no deal) have nothing to show.
    assert [(r.group, str(r.cost), r.deals) for r in rows] == [
        ("partner-news", "0", 1),
        ("spring", "80", 0),
    ]
    assert rows[1].roi == {"first": -1.0, "u-shaped": -1.0}
    assert rows[1].revenue == {"first": D("0"), "u-shaped": D("0")}


def test_costs_counted_twice_leave_a_negative_rest_so_the_rows_still_add_up():
    # A source's 100 spread over one lead in two campaigns lands 100 on each.
    rows = lines(costs={"a": D("100"), "b": D("100")}, unattributed=D("0"), total_cost=D("100"))
    assert [(r.kind, str(r.cost)) for r in rows if r.kind == REST] == [(REST, "-100")]


def test_the_total_sets_every_cost_against_every_deal():
    total = roi_total(models=MODELS, total_cost=D("900"), deals=4, revenue=D("2133.33"))
    assert total.kind == TOTAL
    assert total.revenue == {"first": D("2133.33"), "u-shaped": D("2133.33")}
    # (2133.33 − 900) / 900 = 1.370366…; 2133.33 / 900 = 2.370366…
    assert total.roi == {"first": 1.3704, "u-shaped": 1.3704}
    assert total.roas == {"first": 2.3704, "u-shaped": 2.3704}
    assert roi_total(models=MODELS, total_cost=D("0"), deals=1, revenue=D("5")).roi == {
        "first": None,
        "u-shaped": None,
    }

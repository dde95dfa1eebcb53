"""Cost entries' rules: pro rata by days, cost per one, and the fields' checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from nurture.analytics.costs.entries import (
    CostFieldError,
    cost_per,
    parse_amount,
    parse_entry,
    parse_month_range,
    share_in_period,
)
from nurture.analytics.costs.volume import bucket, buckets


def test_a_whole_month_inside_the_period_counts_whole():
    assert share_in_period(date(2026, 2, 1), date(2026, 1, 1), date(2026, 4, 1)) == 1


def test_a_cut_month_counts_its_days_inside_the_period():
    # 16 to 31 January: 16 of 31 days; 1 to 14 February: 14 of 28 days.
    assert (
        share_in_period(date(2026, 1, 1), date(2026, 1, 16), date(2026, 2, 15)) == Decimal(16) / 31
    )
    assert share_in_period(date(2026, 2, 1), date(2026, 1, 16), date(2026, 2, 15)) == Decimal("0.5")
    # A leap February has 29 days.
    assert share_in_period(date(2028, 2, 1), date(2028, 2, 1), date(2028, 2, 2)) == Decimal(1) / 29


def test_a_month_outside_the_period_counts_nothing():
    assert share_in_period(date(2026, 3, 1), date(2026, 1, 1), date(2026, 3, 1)) == 0
    assert share_in_period(date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 1)) == 0


def test_the_cost_of_one_is_empty_when_there_were_none():
    assert cost_per(Decimal("1450"), 4) == Decimal("362.50")
    assert cost_per(Decimal("100"), 3) == Decimal("33.33")  # to the cent
    assert cost_per(Decimal("2"), 3) == Decimal("0.67")  # half up
    assert cost_per(Decimal("100"), 0) is None  # never infinity
    assert cost_per(Decimal("0"), 0) is None  # never 0 either


def test_amounts_are_exact_non_negative_and_two_decimals_at_most():
    assert parse_amount(0.1) == Decimal("0.10")
    assert parse_amount("12.5") == Decimal("12.50")
    assert parse_amount(0) == Decimal("0.00")
    for bad in (-0.01, "1.001", True, "NaN", "Infinity", "ten", None, "1e15"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_an_amount_too_large_for_cents_is_refused_as_too_large():
    # 1.8e308 as cents has more digits than Decimal keeps: the size is checked first.
    with pytest.raises(ValueError, match="too large"):
        parse_amount(1.7976931348623155e308)


def test_an_entry_names_every_bad_field():
    with pytest.raises(CostFieldError) as caught:
        parse_entry({"month": "13/2026", "amount": None, "source": "x" * 101})
    assert set(caught.value.errors) == {"month", "amount", "source"}
    assert caught.value.errors["amount"] == "required"


def test_a_listing_range_is_months_and_ends_after_it_starts():
    assert parse_month_range("2026-01", None) == (date(2026, 1, 1), None)
    with pytest.raises(CostFieldError) as caught:
        parse_month_range("2026-03", "2026-03")
    assert set(caught.value.errors) == {"to"}


def test_weeks_are_named_by_their_monday():
    assert bucket(date(2026, 1, 1), "week") == "2025-12-29"  # a Thursday
    assert bucket(date(2026, 1, 4), "week") == "2025-12-29"  # the Sunday after
    assert bucket(date(2026, 1, 5), "week") == "2026-01-05"
    assert bucket(date(2026, 1, 5), "month") == "2026-01"
    assert buckets(date(2026, 1, 1), date(2026, 1, 13), "week") == [
        "2025-12-29",
        "2026-01-05",
        "2026-01-12",
    ]

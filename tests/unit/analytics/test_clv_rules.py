"""CLV's and revenue entries' pure rules (every expectation by hand)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from nurture.analytics.clv_rules import (
    average,
    currency_error,
    money,
    months_between,
    split_currency,
)
from nurture.handoff.revenue_rules import RevenueError, check_entry

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("since", "until", "months"),
    [
        (date(2026, 1, 15), date(2026, 3, 15), 2),
        (date(2026, 1, 15), date(2026, 3, 14), 1),  # a day short of two months
        (date(2026, 1, 31), date(2026, 2, 28), 0),
        (date(2025, 11, 1), date(2026, 2, 1), 3),  # across a year
        (date(2026, 3, 1), date(2026, 2, 1), 0),  # never negative
        (date(2026, 3, 1), date(2026, 3, 1), 0),
    ],
)
def test_months_as_customer_are_whole_months(since, until, months):
    assert months_between(since, until) == months


def test_other_currencies_are_kept_apart_never_summed():
    amounts = {"EUR": Decimal("100.00"), "USD": Decimal("50.00"), "GBP": Decimal("7.00")}
    inside, apart = split_currency(amounts, "EUR")
    assert inside == Decimal("100.00")
    assert apart == {"GBP": Decimal("7.00"), "USD": Decimal("50.00")}
    assert split_currency({"USD": Decimal(1)}, "EUR") == (Decimal("0.00"), {"USD": Decimal(1)})


def test_the_average_is_to_the_cent_and_empty_without_values():
    # (100 + 0.01) / 2 = 50.005 → 50.01 (half up).
    assert average([Decimal("100.00"), Decimal("0.01")]) == Decimal("50.01")
    assert average([]) is None
    assert money(Decimal("3")) == "3.00" and money(None) is None


def test_a_report_currency_must_be_iso_4217():
    assert currency_error("EUR") is None and currency_error(None) is None
    assert "not an ISO 4217" in (currency_error("EURO") or "")
    assert "not an ISO 4217" in (currency_error("ZZZ") or "")


def test_a_good_entry_is_normalised():
    values = check_entry(
        amount="1200.5", currency="eur", booked_on="2026-06-15", kind="Renewal", today=TODAY
    )
    assert (values.amount, values.currency, values.booked_on, values.kind, values.note) == (
        Decimal("1200.50"),
        "EUR",
        TODAY,
        "renewal",
        None,
    )
    assert check_entry(amount=7, currency="USD", booked_on=TODAY, today=TODAY).kind == "other"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"amount": "-5"}, {"amount": "must be above 0"}),
        ({"amount": "0"}, {"amount": "must be above 0"}),
        ({"amount": "1e12"}, {"amount": "must be below 1000000000000"}),
        ({"amount": "NaN"}, {"amount": "is not a number"}),
        ({"amount": "ten"}, {"amount": "is not a number"}),
        ({"amount": "1.005"}, {"amount": "at most two decimals"}),
        ({"amount": True}, {"amount": "required"}),
        ({"currency": "EURO"}, {"currency": "not an ISO 4217"}),
        ({"currency": "ZZZ"}, {"currency": "not an ISO 4217"}),
        ({"currency": ""}, {"currency": "required"}),
        ({"booked_on": "2026-06-16"}, {"booked_on": "in the future"}),
        ({"booked_on": "2026-02-30"}, {"booked_on": "not a date of the calendar"}),
        ({"booked_on": "15/06/2026"}, {"booked_on": "not a date: use YYYY-MM-DD"}),
        ({"kind": "refund"}, {"kind": "unknown kind 'refund'"}),
        ({"note": "x" * 501}, {"note": "at most 500"}),
        # Every bad field is named at once.
        (
            {"amount": "-1", "currency": "E", "booked_on": "2027-01-01"},
            {"amount": "above 0", "currency": "ISO 4217", "booked_on": "future"},
        ),
    ],
)
def test_a_bad_entry_names_each_bad_field(fields, errors):
    given = {"amount": "100", "currency": "EUR", "booked_on": "2026-06-01", **fields}
    with pytest.raises(RevenueError) as raised:
        check_entry(today=TODAY, **given)
    assert set(raised.value.errors) == set(errors)
    for name, words in errors.items():
        assert words in raised.value.errors[name]

"""The email results' definitions (pure): delivered, bounces, rates, the changes of a
comparison, and what a comparison may be asked for."""

from __future__ import annotations

from datetime import date

import pytest

from nurture.analytics import FilterError
from nurture.analytics.email_results import (
    Comparison,
    EmailResults,
    figure_change,
    parse_comparison,
    rate_change,
)


def test_delivered_is_sent_less_every_bounce_hard_or_soft():
    results = EmailResults(sent=10, hard_bounced=1, soft_bounced=2, opened=3, clicked=1)
    assert (results.bounced, results.delivered) == (3, 7)
    rates = results.rates()
    assert rates["bounce_rate"] == 0.3 and rates["delivery_rate"] == 0.7
    assert rates["open_rate"] == 3 / 7 and rates["click_to_open"] == 1 / 3


def test_a_rate_without_a_denominator_is_empty_not_zero():
    rates = EmailResults().rates()
    assert set(rates.values()) == {None}
    # Opened nothing: no click-to-open, but an open rate of 0 on what was delivered.
    assert EmailResults(sent=2).rates()["click_to_open"] is None
    assert EmailResults(sent=2).rates()["open_rate"] == 0.0


def test_changes_are_absolute_and_relative_and_rates_move_in_points():
    assert figure_change(12, 10) == {"absolute": 2, "relative": 0.2}
    assert figure_change(3, 0) == {"absolute": 3, "relative": None}
    assert rate_change(0.30, 0.25) == {"points": 5.0, "relative": pytest.approx(0.2)}
    assert rate_change(None, 0.25) == {"points": None, "relative": None}
    assert rate_change(0.1, 0.0) == {"points": 10.0, "relative": None}


def compare(**args):  # type: ignore[no-untyped-def]
    values = {
        "compare_from": None,
        "compare_to": None,
        "versions": None,
        "campaign": None,
        "group_by": None,
    }
    return parse_comparison(**{**values, **args})


def test_a_comparison_is_a_whole_period_or_two_versions_of_one_campaign():
    assert compare() is None
    assert compare(compare_from="2025-01", compare_to="2025-02-15") == Comparison(
        start=date(2025, 1, 1), end=date(2025, 2, 15)
    )
    assert compare(versions=" v1, 3 ", campaign="alpha") == Comparison(versions=(1, 3))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"versions": "1,2"}, "versions"),
        ({"versions": "1,1", "campaign": "a"}, "versions"),
        ({"versions": "1;2", "campaign": "a"}, "versions"),
        ({"versions": "1,2", "campaign": "a", "group_by": "version"}, "by"),
        ({"compare_from": "2025-01"}, "compare_to"),
        ({"compare_to": "2025-01"}, "compare_from"),
        ({"compare_from": "2025-02", "compare_to": "2025-01"}, "compare_to"),
        ({"compare_from": "2025-02-30", "compare_to": "2025-04"}, "compare_from"),
        ({"compare_from": "2000-01", "compare_to": "2025-01"}, "compare_to"),
        ({"compare_from": "2025-01", "compare_to": "2025-02", "versions": "1,2"}, "versions"),
    ],
)
def test_a_bad_comparison_names_its_argument(args, field):
    with pytest.raises(FilterError) as raised:
        compare(**args)
    assert field in raised.value.errors

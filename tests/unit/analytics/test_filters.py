"""Report arguments from strings: the period, the filters, the grouping, and the errors."""

from __future__ import annotations

from datetime import date

import pytest

from nurture.analytics.filters import (
    VELOCITY_GROUP_BY,
    FilterError,
    default_period,
    months,
    parse_filter,
)

TODAY = date(2026, 3, 17)


def errors(**args: str | None) -> dict[str, str]:
    with pytest.raises(FilterError) as caught:
        parse_filter(today=TODAY, **{"start": None, "end": None, **args})
    return caught.value.errors


def test_without_dates_the_period_is_the_twelve_months_up_to_this_one():
    report = parse_filter(start=None, end="", today=TODAY)
    assert (report.start, report.end) == (date(2025, 4, 1), date(2026, 4, 1))
    assert default_period(date(2026, 12, 31)) == (date(2026, 1, 1), date(2027, 1, 1))


def test_a_month_means_its_first_day_and_values_are_tidied():
    report = parse_filter(
        start="2026-01",
        end="2026-02-15",
        today=TODAY,
        group_by=" Owner ",
        grade="b",
        owner=" Ann@Sales.Example ",
        source=" ",
    )
    assert report.start == date(2026, 1, 1) and report.end == date(2026, 2, 15)
    assert (report.group_by, report.grade, report.owner, report.source) == (
        "owner",
        "B",
        "ann@sales.example",
        None,
    )
    assert parse_filter(start=None, end=None, today=TODAY, group_by="none").group_by is None


def test_the_period_is_half_open_in_utc():
    report = parse_filter(start="2026-01-01", end="2026-02-01", today=TODAY)
    assert report.start_at.isoformat() == "2026-01-01T00:00:00+00:00"
    assert report.end_at.isoformat() == "2026-02-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        ({"start": "yesterday"}, "from", "is not a date"),
        ({"start": "2026-02-30"}, "from", "not a date of the calendar"),
        ({"end": "2026-13"}, "to", "not a date of the calendar"),
        ({"end": "1969-12-31"}, "to", "outside the years"),
        ({"start": "2026-03-01", "end": "2026-03-01"}, "to", "must be after the start"),
        ({"start": "2000-01-01", "end": "2020-01-01"}, "to", "at most 3660 days"),
        ({"group_by": "color"}, "by", "unknown grouping 'color'"),
        ({"grade": "E"}, "grade", "unknown grade 'E'"),
        ({"source": "x" * 400}, "source", "at most 320"),
        ({"campaign": "a\x00b"}, "campaign", "printable"),
    ],
)
def test_each_bad_value_is_named_with_the_reason(args, field, words):
    found = errors(**args)
    assert list(found) == [field]
    assert words in found[field]


def test_every_bad_value_is_reported_at_once():
    assert set(errors(start="x", group_by="y", grade="Z")) == {"from", "by", "grade"}


def test_months_lists_every_month_with_a_day_in_the_period():
    assert months(date(2025, 11, 15), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
    assert months(date(2026, 1, 1), date(2026, 1, 2)) == [date(2026, 1, 1)]


def test_only_velocity_groups_by_cohort():
    assert "cohort" in errors(group_by="cohort")["by"]
    report = parse_filter(
        start=None, end=None, today=TODAY, group_by="Cohort", groupings=VELOCITY_GROUP_BY
    )
    assert report.group_by == "cohort"

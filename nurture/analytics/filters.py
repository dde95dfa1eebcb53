"""What a report is asked for (pure): the period, the filters and the grouping, parsed from
the strings the CLI and the API receive, with one clear message per bad value.

The period is ``[start, end)`` in whole UTC days: ``start`` is the first day counted and
``end`` the first day not counted, so ``--from 2026-01-01 --to 2027-01-01`` is the year
2026. A month (``2026-01``) means its first day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

# The dimensions a report can be grouped by (docs/analytics.md, "Filters and groups").
GROUP_BY: tuple[str, ...] = ("source", "campaign", "owner", "grade", "segment", "month")
# The velocity report can also follow a cohort: the month (UTC) each lead was created.
VELOCITY_GROUP_BY: tuple[str, ...] = (*GROUP_BY, "cohort")
GRADES: tuple[str, ...] = ("A", "B", "C", "D")
# Ten years of months: the cohort view has a row per month, and a longer range is a typo.
MAX_SPAN_DAYS = 3660
# Longer than any key, source or address the product stores.
MAX_TEXT = 320

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


class FilterError(ValueError):
    """Report arguments that cannot be used: ``errors`` maps each argument to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ReportFilter:
    """The leads and the period a report covers, and how its rows are grouped.

    ``source`` is the lead's ``source``, ``campaign`` a campaign key the lead was enrolled
    in, ``owner`` the email of the rep of the lead's latest handoff, ``grade`` the lead's
    current fit grade, ``segment`` the sales team file's segment of the lead's account.
    ``group_by`` is one of ``GROUP_BY`` (``VELOCITY_GROUP_BY`` for velocity) or None (one
    row).
    """

    start: date
    end: date
    source: str | None = None
    campaign: str | None = None
    owner: str | None = None
    grade: str | None = None
    segment: str | None = None
    group_by: str | None = None

    @property
    def start_at(self) -> datetime:
        """The first instant of the period (UTC)."""
        return midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (UTC)."""
        return midnight(self.end)

    def as_dict(self) -> dict[str, str | None]:
        """The filter as plain values (what a report says it covers)."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "source": self.source,
            "campaign": self.campaign,
            "owner": self.owner,
            "grade": self.grade,
            "segment": self.segment,
            "by": self.group_by,
        }


def default_period(today: date) -> tuple[date, date]:
    """The twelve months up to and including the month of ``today``."""
    end = add_months(date(today.year, today.month, 1), 1)
    return add_months(end, -12), end


def parse_filter(
    *,
    start: str | None,
    end: str | None,
    today: date,
    group_by: str | None = None,
    source: str | None = None,
    campaign: str | None = None,
    owner: str | None = None,
    grade: str | None = None,
    segment: str | None = None,
    groupings: tuple[str, ...] = GROUP_BY,
) -> ReportFilter:
    """A ``ReportFilter`` from the strings given, or ``FilterError`` naming every bad one.

    A missing ``start``/``end`` defaults to the period of ``default_period(today)``; an
    empty filter value means no filter. ``groupings`` are the report's ``group_by`` values.
    """
    errors: dict[str, str] = {}
    default_start, default_end = default_period(today)
    first = _parse_date("from", start, default_start, errors)
    last = _parse_date("to", end, default_end, errors)
    if first is not None and last is not None:
        if last <= first:
            errors["to"] = f"the end ({last}) must be after the start ({first})"
        elif (last - first).days > MAX_SPAN_DAYS:
            errors["to"] = f"a report covers at most {MAX_SPAN_DAYS} days"
    by = _text("by", group_by, errors)
    if by is not None:
        by = by.lower()
        if by == "none":
            by = None
        elif by not in groupings:
            errors["by"] = f"unknown grouping {by!r}: use one of {', '.join(groupings)} or none"
    wanted_grade = _text("grade", grade, errors)
    if wanted_grade is not None:
        wanted_grade = wanted_grade.upper()
        if wanted_grade not in GRADES:
            errors["grade"] = f"unknown grade {wanted_grade!r}: use one of {', '.join(GRADES)}"
    texts = {
        name: _text(name, value, errors)
        for name, value in (
            ("source", source),
            ("campaign", campaign),
            ("owner", owner),
            ("segment", segment),
        )
    }
    if errors:
        raise FilterError(errors)
    assert first is not None and last is not None
    owner_email = texts["owner"]
    return ReportFilter(
        start=first,
        end=last,
        source=texts["source"],
        campaign=texts["campaign"],
        owner=owner_email.lower() if owner_email else None,
        grade=wanted_grade,
        segment=texts["segment"],
        group_by=by,
    )


# The names a report's period, filters and grouping go by in a query (the API's, the web
# pages'): those of the CLI's options.
QUERY_ARGUMENTS: tuple[str, ...] = (
    "from", "to", "by", "source", "campaign", "owner", "grade", "segment",
)  # fmt: skip


def parse_query(
    args: Mapping[str, str | None], *, today: date, groupings: tuple[str, ...] = GROUP_BY
) -> ReportFilter:
    """``parse_filter`` of a query's ``QUERY_ARGUMENTS`` (``from``, ``to``, ``by``, …)."""
    return parse_filter(
        today=today,
        start=args.get("from"),
        end=args.get("to"),
        group_by=args.get("by"),
        source=args.get("source"),
        campaign=args.get("campaign"),
        owner=args.get("owner"),
        grade=args.get("grade"),
        segment=args.get("segment"),
        groupings=groupings,
    )


def months(start: date, end: date) -> list[date]:
    """The first day of every month that has a day in ``[start, end)``."""
    found: list[date] = []
    month = date(start.year, start.month, 1)
    while month < end:
        found.append(month)
        month = add_months(month, 1)
    return found


def midnight(day: date) -> datetime:
    """The first instant of ``day``, UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def month_key(month: date) -> str:
    """How a month is named in reports: ``2026-01``."""
    return f"{month.year:04d}-{month.month:02d}"


def _parse_date(name: str, text: str | None, default: date, errors: dict[str, str]) -> date | None:
    value = (text or "").strip()
    if not value:
        return default
    match = _DATE.match(value)
    if match is None:
        errors[name] = f"{value[:40]!r} is not a date: use YYYY-MM-DD (or YYYY-MM)"
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        parsed = date(year, month, day)
    except ValueError:
        errors[name] = f"{value!r} is not a date of the calendar"
        return None
    if not 1970 <= parsed.year <= 2999:
        errors[name] = f"{value!r} is outside the years 1970 to 2999"
        return None
    return parsed


def _text(name: str, text: str | None, errors: dict[str, str]) -> str | None:
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT or not value.isprintable():
        errors[name] = f"at most {MAX_TEXT} printable characters"
        return None
    return value


def add_months(day: date, count: int) -> date:
    """The first day of the month ``count`` months after ``day``'s."""
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)

"""Volume: how many leads were created per day, ISO week (from Monday) or month of the
period, per group (docs/analytics.md, "Volume").

A lead counts once, at its creation (``leads.created_at``, UTC), in the bucket of that
day; the filters and the grouping are the funnel's (``nurture.analytics.scope``), so a
lead enrolled in two campaigns counts in both groups of a ``--by campaign`` report. A
week or month cut by the period counts only its days inside the period. Every bucket of
the period is a row (with 0 where nobody came), so a chart has no gaps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.analytics.filters import FilterError, ReportFilter, month_key, months
from nurture.analytics.scope import check_filter, created_group_names, created_leads, month_name
from nurture.analytics.tables import Cell

INTERVALS: tuple[str, ...] = ("day", "week", "month")


@dataclass(frozen=True)
class VolumeRow:
    """New leads in one bucket (``period``: ``2026-01-05`` for a day or the Monday of a
    week, ``2026-01`` for a month) and group."""

    period: str
    group: str | None
    leads: int

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {"period": self.period, "group": self.group, "leads": self.leads}


@dataclass(frozen=True)
class VolumeReport:
    """New leads per bucket and group."""

    filter: ReportFilter
    interval: str
    rows: list[VolumeRow]

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body)."""
        return {
            "filter": self.filter.as_dict(),
            "interval": self.interval,
            "rows": [row.as_dict() for row in self.rows],
        }


def parse_interval(text: str | None) -> str:
    """``day``, ``week`` or ``month`` (the default); ``FilterError`` naming ``interval``."""
    value = (text or "month").strip().lower()
    if value not in INTERVALS:
        raise FilterError(
            {"interval": f"unknown interval {value[:40]!r}: use one of {', '.join(INTERVALS)}"}
        )
    return value


def volume_report(session: Session, report: ReportFilter, interval: str = "month") -> VolumeReport:
    """New leads of ``report`` per ``interval`` (``FilterError`` for a filter naming
    nothing or an unknown interval)."""
    interval = parse_interval(interval)
    team = check_filter(session, report)
    inner, group, creation = created_leads(report, team, report.start_at, report.end_at)
    inner = inner.add_columns(creation.day.label("day"))
    if group is not None:
        inner = inner.add_columns(group.label("report_group"))
    sub = inner.subquery("created")
    keys = [sub.c.day, *([sub.c.report_group] if group is not None else [])]
    counted: Counter[tuple[str, Any]] = Counter()
    named = created_group_names(session, report)
    for row in session.execute(select(*keys, func.count()).select_from(sub).group_by(*keys)):
        key = named(row[1]) if group is not None else None
        counted[(bucket(_day(int(row[0])), interval), key)] += int(row[-1])
    keys = _group_keys(report, {key for _, key in counted})
    rows = [
        VolumeRow(period=name, group=_group_name(report, key), leads=counted.get((name, key), 0))
        for name in buckets(report.start, report.end, interval)
        for key in keys
    ]
    return VolumeReport(report, interval, rows)


def volume_table(report: VolumeReport) -> tuple[list[str], list[list[Cell]]]:
    """The volume as a table: period, group, leads."""
    return ["period", "group", "leads"], [[r.period, r.group, r.leads] for r in report.rows]


def bucket(day: date, interval: str) -> str:
    """The name of the bucket ``day`` falls in: the day, its week's Monday, its month."""
    if interval == "day":
        return day.isoformat()
    if interval == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return month_key(day)


def buckets(start: date, end: date, interval: str) -> list[str]:
    """The names of every bucket with a day in ``[start, end)``, in order."""
    if interval == "month":
        return [month_key(month) for month in months(start, end)]
    names: list[str] = []
    day = start
    while day < end:
        name = bucket(day, interval)
        if not names or names[-1] != name:
            names.append(name)
        day += timedelta(days=1)
    return names


def _day(number: int) -> date:
    return date(number // 10000, number // 100 % 100, number % 100)


def _group_keys(report: ReportFilter, found: set[Any]) -> list[Any]:
    if report.group_by is None:
        return [None]
    if report.group_by == "month":
        return [m.year * 100 + m.month for m in months(report.start, report.end)]
    return sorted((k for k in found if k is not None), key=str) + ([None] if None in found else [])


def _group_name(report: ReportFilter, key: Any) -> str | None:
    if key is None:
        return None
    return month_name(int(key)) if report.group_by == "month" else str(key)

"""The campaign results read from their roll-up (``nurture.analytics.email_rollup``) instead
of every email of the period: the same figures (``email_results``), from a few rows per
campaign, group and day.

The roll-up answers the report for campaign email only, when nothing of the lead filters
or groups it (no source, owner, grade or segment: its sums are the emails' groups, not
the leads'): ungrouped or by campaign, step, template, version or month; with a version
compared, ungrouped or by campaign. Otherwise (``answers`` is False) the report reads the
messages.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from nurture.analytics.email_results import EmailResults
from nurture.analytics.email_rollup import SUMS, day_of
from nurture.analytics.filters import ReportFilter
from nurture.models import (
    CampaignEmailDay,
    CampaignRecipientDay,
    CampaignVersion,
)

# The groupings the roll-up answers, beside none.
ROLLED_UP_GROUPS: tuple[str, ...] = ("campaign", "step", "template", "version", "month")


def answers(report: ReportFilter, *, version_id: int | None, all_mail: bool) -> bool:
    """Whether the roll-up holds the report's figures (see the module)."""
    filtered = (report.source, report.owner, report.grade, report.segment)
    if all_mail or any(value is not None for value in filtered):
        return False
    if version_id is not None:
        return report.group_by in (None, "campaign")
    return report.group_by is None or report.group_by in ROLLED_UP_GROUPS


def rolled_up_results(
    session: Session,
    report: ReportFilter,
    start: datetime,
    end: datetime,
    *,
    campaign_id: int | None,
    version_id: int | None,
) -> dict[tuple[Any, Any], EmailResults]:
    """Per (campaign id, group key), as ``campaign_results`` keys them: the results of the
    campaign emails sent in ``[start, end)`` (whole UTC days), without conversions."""
    first, after = day_of(start.date()), day_of(end.date())
    by = report.group_by
    days = CampaignEmailDay
    group: Any = {
        "step": days.step_key,
        "template": days.template,
        "version": days.version_id,
        "month": days.day // 100,
    }.get(by or "")
    keys: list[Any] = (
        [] if by is None else [days.campaign_id, *([group] if group is not None else [])]
    )
    statement = select(*keys, *(func.sum(days.__table__.c[name]) for name in SUMS)).where(
        days.day >= first, days.day < after
    )
    if campaign_id is not None:
        statement = statement.where(days.campaign_id == campaign_id)
    if version_id is not None:
        statement = statement.where(days.version_id == version_id)
    if keys:
        statement = statement.group_by(*keys)
    numbers = _version_numbers(session) if by == "version" else {}
    found: dict[tuple[Any, Any], EmailResults] = {}
    for row in session.execute(statement):
        values = row[len(keys) :]
        if not values[0]:
            continue  # the one row of an empty, ungrouped aggregate
        key = _key(by, row, numbers)
        found[key] = EmailResults(
            **{name: int(v or 0) for name, v in zip(SUMS, values, strict=True)}
        )
    for key, recipients in _recipients(
        session, by, first, after, campaign_id=campaign_id, version_id=version_id
    ).items():
        if key in found:
            found[key] = replace(found[key], recipients=recipients)
    return found


def _key(by: str | None, row: Any, numbers: dict[int, int]) -> tuple[Any, Any]:
    if by is None:
        return (None, None)
    if by == "campaign":
        return (row[0], None)
    group = row[1]
    if by == "step":
        group = group or None
    elif by == "version":
        group = numbers.get(int(group))
    return (row[0], group)


def _recipients(
    session: Session,
    by: str | None,
    first: int,
    after: int,
    *,
    campaign_id: int | None,
    version_id: int | None,
) -> dict[tuple[Any, Any], int]:
    """Distinct recipients per key: each lead counts on its first delivered day of the
    group in the period, the one whose previous day in the group is before the period (or
    before the month, by month)."""
    chains = CampaignRecipientDay
    chain = {"step": "step", "template": "template", "version": "version"}.get(
        by or "", "campaign" if by is not None or campaign_id is not None else "all"
    )
    if version_id is not None:
        chain = "version"
    starts: ColumnElement[bool] = chains.prev_day < first
    group: Any = chains.group_key
    if by == "month":
        # prev_day < max(first, the month's first day): the month is a period of its own.
        starts = or_(starts, chains.prev_day <= chains.day - chains.day % 100)
        group = chains.day // 100
    keys: list[Any] = []
    if by is not None:
        keys = [chains.campaign_id, *([group] if by != "campaign" else [])]
    statement = select(*keys, func.sum(chains.recipients)).where(
        chains.chain == chain, chains.day >= first, chains.day < after, starts
    )
    if campaign_id is not None:
        statement = statement.where(chains.campaign_id == campaign_id)
    if version_id is not None:
        statement = statement.where(chains.group_key == str(version_id))
    if keys:
        statement = statement.group_by(*keys)
    numbers = _version_numbers(session) if by == "version" else {}
    found: dict[tuple[Any, Any], int] = {}
    for row in session.execute(statement):
        values: tuple[Any, ...] = tuple(row)
        if by == "version":
            values = (values[0], int(values[1]), values[2])
        found[_key(by, values, numbers)] = int(values[-1] or 0)
    return found


def _version_numbers(session: Session) -> dict[int, int]:
    """Each campaign version's number by its id (0, no version, has none)."""
    return {
        int(i): int(n)
        for i, n in session.execute(select(CampaignVersion.id, CampaignVersion.number))
    }

"""The campaign results read from their roll-up (``nurture.analytics.email_rollup``) instead
of every email of the period: the same figures (``email_results``), from a few rows per
campaign, group and day.

The roll-up answers the report for campaign email only: ungrouped or by campaign, step,
template, version or month when nothing of the lead filters it (no source, owner, grade
or segment: those sums are the emails' groups, not the leads'); by source, owner, grade
or segment (the lead's groups) with any filter, from the copy of each email; with a
version compared, ungrouped or by campaign. Otherwise (``answers`` is False) the report
reads the messages.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from nurture.analytics.email_results import EmailResults
from nurture.analytics.email_rollup import FLAGS, SUMS, day_of
from nurture.analytics.filters import ReportFilter
from nurture.analytics.scope import scoped
from nurture.handoff.team import Team
from nurture.models import (
    CampaignEmailDay,
    CampaignRecipientDay,
    CampaignVersion,
    Lead,
    RolledUpEmail,
)

# The groupings the roll-up answers, beside none.
ROLLED_UP_GROUPS: tuple[str, ...] = ("campaign", "step", "template", "version", "month")
# The groupings that read the lead: each lead is in one group, so a lead's first delivered
# email of a campaign in the period counts it once in its campaign's group, whatever the
# lead filters.
LEAD_GROUPS: tuple[str, ...] = ("source", "owner", "grade", "segment")


def answers(report: ReportFilter, *, version_id: int | None, all_mail: bool) -> bool:
    """Whether the roll-up holds the report's figures (see the module)."""
    filtered = any(v is not None for v in (report.source, report.owner, report.grade,
                                           report.segment))  # fmt: skip
    if all_mail:
        return False
    if report.group_by in LEAD_GROUPS:
        return version_id is None
    if filtered:
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
    team: Team | None,
    campaign_id: int | None,
    version_id: int | None,
) -> dict[tuple[Any, Any], EmailResults]:
    """Per (campaign id, group key), as ``campaign_results`` keys them: the results of the
    campaign emails sent in ``[start, end)`` (whole UTC days), without conversions."""
    first, after = day_of(start.date()), day_of(end.date())
    by = report.group_by
    if by in LEAD_GROUPS:
        return _by_lead(session, report, team, first, after, campaign_id=campaign_id)
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


def _by_lead(
    session: Session,
    report: ReportFilter,
    team: Team | None,
    first: int,
    after: int,
    *,
    campaign_id: int | None,
) -> dict[tuple[Any, Any], EmailResults]:
    """The lead groupings from the copy of each email (``rolled_up_emails``), one row per
    email of the period joined to its lead, without a DISTINCT: the recipients are the
    emails that begin their lead's days in the campaign in the period."""
    emails = RolledUpEmail
    sums = [emails.__table__.c[name] for name in FLAGS[1:]]
    starts = case((emails.campaign_prev_day < first, 1), else_=0)
    inner = (
        select(emails.campaign_id, *sums, starts.label("starts"))
        .join(Lead, Lead.id == emails.lead_id)
        .where(emails.day >= first, emails.day < after)
    )
    if campaign_id is not None:
        inner = inner.where(emails.campaign_id == campaign_id)
    inner, group = scoped(inner, replace(report, campaign=None), team, when=emails.day)
    assert group is not None
    rows = inner.add_columns(group.label("report_group")).subquery("emails")
    keys = [rows.c.campaign_id, rows.c.report_group]
    statement = select(
        *keys, func.count(), *(func.sum(rows.c[name]) for name in (*FLAGS[1:], "starts"))
    ).group_by(*keys)
    found: dict[tuple[Any, Any], EmailResults] = {}
    for row in session.execute(statement):
        values = dict(zip((*SUMS, "recipients"), row[2:], strict=True))
        found[(row[0], row[1])] = EmailResults(**{k: int(v or 0) for k, v in values.items()})
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

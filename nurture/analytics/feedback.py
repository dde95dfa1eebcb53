"""The sales feedback loop from history (docs/analytics.md, "Sales feedback loop"): what
sales did with the MQLs marketing handed over, why it gave leads back, and whether the
leads it gave back returned.

Each figure has its own clock, the moment that puts it in the period ``[start, end)``:

- **offers** (offered, accepted, rejected, waiting, acceptance rate, decided in the SLA):
  the handoffs *offered* in the period (not reassignments), each with sales' verdict on it
  by now (``nurture.analytics.feedback_rules.verdict``), so accepted + rejected + waiting
  = offered and a period's rate does not move when an older offer is decided;
- **rejection reasons** and **notes**: the rejections *decided* in the period, by the
  month of the decision;
- **recycled**: the leads that *entered* ``recycled`` in the period (the first time in
  it), and how many entered ``mql`` again afterwards, by now and within 30/60/90 days.

The groupings and the ``campaign``, ``source`` and ``owner`` filters read what the handoff
recorded when it was made (its campaign, the lead's source then, its readiness rule and
file version) and its rep, so they are history and survive the lead's erasure: an offer
belongs to the rep who answered it (or holds it while it waits), a recycled lead to the
handoff that sent it back (its latest before the recycling; none for a lead recycled
without one). ``grade`` and ``segment`` are the funnel's (``nurture.analytics.scope``),
and ``month`` the month of each figure's clock. Stage changes and handoffs are not
tracking hits, so no machine hit can enter a figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, null, or_, select
from sqlalchemy.orm import Session

from nurture.analytics.definitions import WINDOWS, Reach
from nurture.analytics.durations import RESPONSES
from nurture.analytics.feedback_rules import (
    UNKNOWN_REASON,
    FeedbackRow,
    NoteRow,
    ReasonRow,
    Response,
    add_reach,
    came_back,
    chain,
    reason_rows,
    rule_version,
    verdict,
)
from nurture.analytics.filters import FilterError, ReportFilter, month_key, months
from nurture.analytics.scope import AnySelect, check_filter, scoped, uses_leads
from nurture.handoff.team import Team
from nurture.models import Handoff, HandoffAction, HandoffSla, Lead, SalesRep, StageChange
from nurture.platform.db import among

# The groupings read from the lead (``scope``); the others from the handoff or the clock.
_LEAD_GROUPS = ("grade", "segment")


@dataclass(frozen=True)
class FeedbackReport:
    """The sales feedback loop of a period: one row per group, the rejection reasons per
    month (and group), and the rejection notes when asked for (None otherwise)."""

    filter: ReportFilter
    rows: list[FeedbackRow]
    reasons: list[ReasonRow]
    notes: list[NoteRow] | None = None

    def as_dict(self) -> dict[str, object]:
        """The report as plain values (the API's body); ``notes`` only when asked for."""
        body: dict[str, object] = {
            "filter": self.filter.as_dict(),
            "windows_days": list(WINDOWS),
            "rows": [row.as_dict() for row in self.rows],
            "reasons": [row.as_dict() for row in self.reasons],
        }
        if self.notes is not None:
            body["notes"] = [note.as_dict() for note in self.notes]
        return body


@dataclass(frozen=True)
class _Handed:
    """What a handoff recorded that the report groups and filters by."""

    campaign: str | None
    source: str | None
    rule: str | None
    owner: str | None


def feedback_report(
    session: Session, report: ReportFilter, *, notes: bool = False
) -> FeedbackReport:
    """The feedback loop of ``report`` (``FilterError`` for a filter naming nothing);
    ``notes`` adds the rejection notes of the period."""
    team = _check(session, report)
    rows: dict[str | None, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    comebacks: dict[str | None, Reach] = defaultdict(Reach)
    for group, answer, in_sla in _offers(session, report, team):
        figures = rows[group]
        figures["offered"] += 1
        figures[answer] += 1
        if in_sla is not None:
            figures["decided_with_sla"] += 1
            figures["decided_in_sla"] += int(in_sla)
    for group, back in _recycles(session, report, team):
        rows[group]["recycled"] += 1
        if back.by_now:  # a lead that did not come back adds nothing to any count
            comebacks[group] = add_reach(comebacks[group], back)
    counted: dict[tuple[str | None, str, str], int] = defaultdict(int)
    found_notes: list[NoteRow] = []
    for group, decided_at, reason, handed, note in _rejections(session, report, team, notes):
        counted[(group, month_key(decided_at.date()), reason)] += 1
        if note:
            found_notes.append(
                NoteRow(decided_at, group, reason, handed.campaign, handed.rule, note)
            )
        if group not in rows:  # a group with rejections only is a row too
            rows[group] = defaultdict(int)
    groups = _groups(report, set(rows))
    result = [
        FeedbackRow(group, **dict(rows.get(group, {})), back_as_mql=comebacks.get(group, Reach()))
        for group in groups
    ]
    labels = {reason.id: reason.label for reason in team.reject_reasons} if team else {}
    return FeedbackReport(
        report,
        result,
        reason_rows(counted, labels, groups),
        sorted(found_notes, key=lambda n: n.decided_at) if notes else None,
    )


def _check(session: Session, report: ReportFilter) -> Team | None:
    """``scope.check_filter``, except that a source may also be one a handoff recorded (an
    erased lead's handoff keeps its source, the lead does not)."""
    errors: dict[str, str] = {}
    try:
        team = check_filter(session, replace(report, source=None))
    except FilterError as error:
        errors.update(error.errors)
        team = None
    if report.source is not None and not session.scalar(
        select(
            or_(
                exists().where(Lead.source == report.source),
                exists().where(Handoff.source == report.source),
            )
        )
    ):
        errors["source"] = f"no lead or handoff has the source {report.source!r}"
    if errors:
        raise FilterError(errors)
    return team


def _scoped(
    statement: AnySelect, lead_id: Any, report: ReportFilter, team: Team | None
) -> AnySelect:
    """``statement`` narrowed by the lead's filters (grade, segment) with the lead's group
    as a last column (null unless grouped by one). ``leads`` is joined on ``lead_id`` only
    when a filter or the grouping reads it: every handoff and stage change has its lead (a
    foreign key, erasure keeps the row), so the join would only cost a probe per row."""
    by_lead = report.group_by if report.group_by in _LEAD_GROUPS else None
    lead_only = replace(report, source=None, campaign=None, owner=None, group_by=by_lead)
    if uses_leads(lead_only):
        statement = statement.join(Lead, Lead.id == lead_id)
    narrowed, group = scoped(statement, lead_only, team, when=Lead.created_at)
    return narrowed.add_columns((group if group is not None else null()).label("lead_group"))


def _wanted(report: ReportFilter, handed: _Handed | None) -> bool:
    """Whether what a handoff recorded passes the campaign, source and owner filters."""
    for wanted, value in (
        (report.campaign, handed.campaign if handed else None),
        (report.source, handed.source if handed else None),
        (report.owner, handed.owner if handed else None),
    ):
        if wanted is not None and value != wanted:
            return False
    return True


def _group(
    report: ReportFilter, handed: _Handed | None, lead_group: Any, moment: datetime
) -> str | None:
    """The name of a figure's group (see the module)."""
    by = report.group_by
    if by is None:
        return None
    if by == "month":
        return month_key(moment.date())
    if by in _LEAD_GROUPS:
        return None if lead_group is None else str(lead_group)
    if handed is None:
        return None
    value = {"campaign": handed.campaign, "source": handed.source, "owner": handed.owner,
             "rule": handed.rule}[by]  # fmt: skip
    return value


def _handed(row: Any, owner: str | None) -> _Handed:
    return _Handed(
        row.campaign, row.source, rule_version(row.qualification_rule, row.readiness_version), owner
    )


_HANDED_COLUMNS = (
    Handoff.campaign,
    Handoff.source,
    Handoff.qualification_rule,
    Handoff.readiness_version,
)


def _offers(
    session: Session, report: ReportFilter, team: Team | None
) -> list[tuple[str | None, str, bool | None]]:
    """(group, verdict, decided by the SLA deadline or None without a decision or clock) of
    every offer made in the period."""
    start, end = report.start_at, report.end_at
    statement = (
        select(Handoff.id, Handoff.created_at, *_HANDED_COLUMNS, SalesRep.email.label("owner"))
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(Handoff.previous_id.is_(None), Handoff.created_at >= start, Handoff.created_at < end)
    )
    offers = _rows(session, _scoped(statement, Handoff.lead_id, report, team))
    if not offers:
        return []
    # A reassignment comes after its offer: the handoffs since the period's start hold
    # every chain that starts in it.
    later = Handoff.created_at >= start
    successor: dict[int, int] = {}
    owners: dict[int, str | None] = {}
    for handoff_id, previous_id, email in _rows(
        session,
        select(Handoff.id, Handoff.previous_id, SalesRep.email)
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(later, Handoff.previous_id.is_not(None)),
    ):
        successor[previous_id] = handoff_id
        owners[handoff_id] = email
    responses: dict[int, Response] = {}
    for handoff_id, action, moment in _rows(
        session,
        select(HandoffAction.handoff_id, HandoffAction.action, HandoffAction.at)
        .join(Handoff, Handoff.id == HandoffAction.handoff_id)
        .where(later, HandoffAction.action.in_(RESPONSES))
        .order_by(HandoffAction.at, HandoffAction.id),
    ):
        responses.setdefault(handoff_id, Response(moment, action, handoff_id))
    clocks: dict[int, str] = dict(
        _rows(
            session,
            select(HandoffSla.handoff_id, HandoffSla.status)
            .join(Handoff, Handoff.id == HandoffSla.handoff_id)
            .where(later),
        )
    )
    found = []
    for row in offers:
        owners[row.id] = row.owner
        handoffs = chain(row.id, successor)
        answer, response = verdict(handoffs, responses)
        # The offer belongs to whoever answered it, or holds it while it waits.
        holder = response.handoff_id if response else handoffs[-1]
        handed = _handed(row, owners.get(holder))
        if not _wanted(report, handed):
            continue
        in_sla = None
        if response is not None and response.handoff_id in clocks:
            in_sla = clocks[response.handoff_id] == "met"
        found.append((_group(report, handed, row.lead_group, row.created_at), answer, in_sla))
    return found


def _rejections(
    session: Session, report: ReportFilter, team: Team | None, notes: bool
) -> list[tuple[str | None, datetime, str, _Handed, str | None]]:
    """(group, decided at, reason, what the handoff recorded, note if asked for) of every
    rejection decided in the period."""
    start, end = report.start_at, report.end_at
    note = Handoff.reject_note if notes else null()
    statement = (
        select(
            Handoff.decided_at,
            Handoff.reject_reason,
            note.label("note"),
            *_HANDED_COLUMNS,
            SalesRep.email.label("owner"),
        )
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(Handoff.status == "rejected", Handoff.decided_at >= start, Handoff.decided_at < end)
    )
    found = []
    for row in _rows(session, _scoped(statement, Handoff.lead_id, report, team)):
        handed = _handed(row, row.owner)
        if not _wanted(report, handed):
            continue
        found.append(
            (
                _group(report, handed, row.lead_group, row.decided_at),
                row.decided_at,
                row.reject_reason or UNKNOWN_REASON,
                handed,
                row.note,
            )
        )
    return found


def _recycles(
    session: Session, report: ReportFilter, team: Team | None
) -> list[tuple[str | None, Reach]]:
    """(group, came back as MQL) of every lead that entered ``recycled`` in the period."""
    start, end = report.start_at, report.end_at
    in_period = (
        StageChange.to_stage == "recycled",
        StageChange.at >= start,
        StageChange.at < end,
    )
    statement = select(StageChange.lead_id, StageChange.at).where(*in_period)
    first: dict[int, tuple[datetime, Any]] = {}
    scoped_changes = _scoped(statement, StageChange.lead_id, report, team)
    for lead_id, moment, lead_group in _rows(session, scoped_changes):
        if lead_id not in first or moment < first[lead_id][0]:
            first[lead_id] = (moment, lead_group)
    if not first:
        return []
    # Each recycled lead's first return to mql after its first recycling of the period
    # (all ``came_back`` looks at), found in SQL: one row per lead that came back, without
    # reading its other returns or sending the recycled leads back as a parameter.
    recycled = (
        select(StageChange.lead_id, func.min(StageChange.at).label("at"))
        .where(*in_period)
        .group_by(StageChange.lead_id)
        .subquery("recycled")
    )
    returns: dict[int, list[datetime]] = {
        lead_id: [moment]
        for lead_id, moment in _rows(
            session,
            select(StageChange.lead_id, func.min(StageChange.at))
            .join(
                recycled,
                and_(recycled.c.lead_id == StageChange.lead_id, StageChange.at > recycled.c.at),
            )
            .where(StageChange.to_stage == "mql", StageChange.at > start)
            .group_by(StageChange.lead_id),
        )
    }
    sent_back: dict[int, list[tuple[datetime, _Handed]]] = defaultdict(list)
    for row in _rows(
        session,
        select(Handoff.lead_id, Handoff.created_at, *_HANDED_COLUMNS, SalesRep.email.label("owner"))
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(_recycled(session, Handoff.lead_id, first, in_period), Handoff.created_at < end)
        .order_by(Handoff.created_at, Handoff.id),
    ):
        sent_back[row.lead_id].append((row.created_at, _handed(row, row.owner)))
    found = []
    for lead_id, (moment, lead_group) in first.items():
        # The handoff that sent the lead back: its latest made before the recycling.
        before = [handed for made, handed in sent_back.get(lead_id, []) if made <= moment]
        handed = before[-1] if before else None
        if not _wanted(report, handed):
            continue
        back = came_back(moment, returns.get(lead_id, []))
        found.append((_group(report, handed, lead_group, moment), back))
    return found


def _recycled(
    session: Session, column: Any, leads: Iterable[int], in_period: tuple[Any, ...]
) -> ColumnElement[bool]:
    """``column`` is one of the recycled ``leads`` already read. On PostgreSQL their ids
    go as one array parameter: the recycling changes of the period again as a subquery
    made the query of the handoffs that sent them back re-read them (EXPLAIN ANALYZE
    on the benchmark's database: 80 ms). SQLite, whose statements take a bounded number
    of parameters, gets the subquery: every lead recycled in the period, of which
    ``leads`` are those that pass the filters (the only ones the caller looks up)."""
    if session.get_bind().dialect.name == "postgresql":
        return among(session, column, leads)
    return column.in_(select(StageChange.lead_id).where(*in_period))


def _rows(session: Session, statement: AnySelect) -> Sequence[Any]:
    """The statement's rows through the session's connection (Core rows, fetched at once)."""
    return session.connection().execute(statement).all()


def _groups(report: ReportFilter, found: set[str | None]) -> list[str | None]:
    """The rows' groups in order: every month of the period for ``month``, else the groups
    found (sorted, no value last); one row when ungrouped."""
    if report.group_by is None:
        return [None]
    if report.group_by == "month":
        return [month_key(month) for month in months(report.start, report.end)]
    named = sorted(group for group in found if group is not None)
    return named + ([None] if None in found else [])

"""What the sales manager's pages read: every open handoff with its owner and SLA state,
the rejections of a period with their notes and counted by reason, and the team's SLA
compliance per rep (``nurture.handoff.sla.service.compliance_report``).

The lists are keyset-paged like the inbox (``nurture.reports.sales``): the open handoffs over
the handoffs' ``(status, created_at)`` index, the rejections over ``(status, decided_at)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.handoff.model import OPEN_STATUSES
from nurture.handoff.sla.service import ComplianceRow, compliance_report
from nurture.models import Handoff, HandoffSla, SalesRep
from nurture.reports.sales import (
    PAGE_SIZE,
    ListPage,
    RepInfo,
    base_query,
    keyset_after,
    page_of,
    past_deadline,
    reject_reasons,
    rep_info,
)


def open_handoffs(
    session: Session,
    *,
    now: datetime,
    rep_id: int | None = None,
    unowned: bool = False,
    sla: str | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> ListPage:
    """Every open handoff (offered or accepted), oldest first, with owner and SLA state;
    optionally one rep's (``rep_id``), the unowned ones, or one SLA state."""
    query = base_query().where(Handoff.status.in_(tuple(sorted(OPEN_STATUSES))))
    if unowned:
        query = query.where(Handoff.rep_id.is_(None))
    elif rep_id is not None:
        query = query.where(Handoff.rep_id == rep_id)
    if sla == "overdue":
        query = query.where(past_deadline(now))
    elif sla == "running":
        query = query.where(HandoffSla.status == "pending", HandoffSla.due_at > now)
    elif sla in ("met", "breached"):
        query = query.where(HandoffSla.status == sla)
    elif sla == "none":
        query = query.where(HandoffSla.handoff_id.is_(None))
    keyset = keyset_after(Handoff.created_at, after, ascending=True)
    if keyset is not None:
        query = query.where(keyset)
    return page_of(session, query.order_by(Handoff.created_at, Handoff.id), after, limit)


def rejections(
    session: Session,
    *,
    since: datetime,
    reason: str | None = None,
    rep_id: int | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> ListPage:
    """Handoffs rejected since ``since``, latest decision first, with reason and note."""
    query = base_query().where(Handoff.status == "rejected", Handoff.decided_at >= since)
    if reason:
        query = query.where(Handoff.reject_reason == reason)
    if rep_id is not None:
        query = query.where(Handoff.rep_id == rep_id)
    keyset = keyset_after(Handoff.decided_at, after, ascending=False)
    if keyset is not None:
        query = query.where(keyset)
    query = query.order_by(Handoff.decided_at.desc(), Handoff.id.desc())
    return page_of(session, query, after, limit, key_of="decided_at")


@dataclass(frozen=True)
class ReasonFigure:
    """One reject reason in a period: its id, its label in the team file, and count."""

    reason: str
    label: str
    count: int
    with_note: int


@dataclass(frozen=True)
class RejectionSummary:
    """Sales' responses in a period: how many handoffs were accepted (accepted or later
    converted) and rejected, and the rejections by reason, most frequent first."""

    accepted: int
    rejected: int
    reasons: list[ReasonFigure]

    @property
    def rejection_rate(self) -> float | None:
        """Rejected ÷ handoffs sales responded to (accepted or rejected) in the period."""
        answered = self.accepted + self.rejected
        return None if answered == 0 else self.rejected / answered


def rejection_summary(session: Session, *, since: datetime) -> RejectionSummary:
    """Accepted and rejected handoffs decided since ``since``, rejections by reason."""
    decided = dict(
        session.execute(
            select(Handoff.status, func.count())
            .where(
                Handoff.status.in_(("accepted", "converted", "rejected")),
                Handoff.decided_at >= since,
            )
            .group_by(Handoff.status)
        ).all()
    )
    labels = {reason.id: reason.label for reason in reject_reasons(session)}
    by_reason = session.execute(
        select(
            Handoff.reject_reason,
            func.count(),
            func.count(Handoff.reject_note),
        )
        .where(Handoff.status == "rejected", Handoff.decided_at >= since)
        .group_by(Handoff.reject_reason)
    ).all()
    reasons = sorted(
        (
            ReasonFigure(reason or "unknown", labels.get(reason or "", reason or "?"), n, notes)
            for reason, n, notes in by_reason
        ),
        key=lambda figure: (-figure.count, figure.reason),
    )
    return RejectionSummary(
        accepted=decided.get("accepted", 0) + decided.get("converted", 0),
        rejected=decided.get("rejected", 0),
        reasons=reasons,
    )


@dataclass(frozen=True)
class SlaFigure:
    """One rep's SLA compliance in a period (``nurture.handoff.sla.service``)."""

    rep: RepInfo | None
    email: str
    handoffs: int
    met: int
    breached: int
    pending: int
    median_business_minutes: float | None

    @property
    def rate(self) -> float | None:
        """Met ÷ (met + breached): the share answered in time, of those decided."""
        decided = self.met + self.breached
        return None if decided == 0 else self.met / decided


@dataclass(frozen=True)
class SlaReport:
    """The team's SLA compliance: a row per rep and the whole team's totals."""

    reps: list[SlaFigure]
    total: SlaFigure


def sla_report(session: Session, *, since: datetime) -> SlaReport:
    """Per rep, for clocks started since ``since``: handoffs with a clock, answered in time
    (met), breached, still running, and the median working time to respond."""
    rows: Sequence[ComplianceRow] = compliance_report(session, since=since)
    reps = {
        rep.email: rep_info(rep)
        for rep in session.scalars(
            select(SalesRep).where(SalesRep.email.in_([row.rep for row in rows]))
        )
    }
    figures = [
        SlaFigure(
            reps.get(row.rep),
            row.rep,
            row.handoffs,
            row.met,
            row.breached,
            row.pending,
            row.median_business_minutes,
        )
        for row in rows
    ]
    figures.sort(key=lambda f: ((f.rep.name if f.rep else f.email).lower(), f.email))
    total = SlaFigure(
        None,
        "",
        sum(f.handoffs for f in figures),
        sum(f.met for f in figures),
        sum(f.breached for f in figures),
        sum(f.pending for f in figures),
        _team_median(session, since),
    )
    return SlaReport(figures, total)


def _team_median(session: Session, since: datetime) -> float | None:
    # The team's median over every response, by the same rule as the per-rep one
    # (the upper middle of an even count), not a median of the reps' medians.
    times = sorted(
        seconds / 60
        for seconds in session.scalars(
            select(HandoffSla.response_business_seconds).where(
                HandoffSla.status != "void",
                HandoffSla.started_at >= since,
                HandoffSla.response_business_seconds.is_not(None),
            )
        )
        if seconds is not None
    )
    return times[len(times) // 2] if times else None

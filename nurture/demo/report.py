"""What the demo shows: the run's own account (``DemoResult``), and where the leads and
handoffs ended up, read back from the demo instance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from nurture.models import Enrollment, Event, Handoff, HandoffSla, Lead, Message, SalesRep
from nurture.platform.config import Settings
from nurture.platform.runtime import Runtime
from nurture.sending.kinds import INTERNAL_KINDS
from nurture.sending.tick import TickReport


@dataclass
class DemoResult:
    """What the demo did, for the summary."""

    instance: Path
    start: datetime
    end: datetime
    import_summary: object
    sync_report: object
    ticks: int = 0
    totals: TickReport = field(default_factory=TickReport)
    hits: Counter[str] = field(default_factory=Counter)
    arrivals: int = 0
    human_events: int = 0
    machine_events: int = 0
    demo_requests: list[str] = field(default_factory=list)
    sales: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LeadRow:
    """One line of the demo's closing table."""

    email: str
    company: str
    timezone: str
    temperature: str
    stage: str
    position: str
    emails: list[str]


def lead_rows(settings: Settings) -> list[LeadRow]:
    """Where each demo lead ended up, and which emails it received."""
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            leads = session.scalars(select(Lead).order_by(Lead.id)).all()
            sent: dict[int, list[str]] = {}
            for lead_id, template in session.execute(
                select(Message.lead_id, Message.template)
                .where(Message.status == "sent", Message.kind.not_in(INTERNAL_KINDS))
                .order_by(Message.sent_at)
            ):
                sent.setdefault(lead_id, []).append(template)
            enrolments = {
                e.lead_id: e for e in session.scalars(select(Enrollment).order_by(Enrollment.id))
            }
            rows = []
            for lead in leads:
                enrolment = enrolments.get(lead.id)
                if enrolment is None:
                    position = "not enrolled"
                elif enrolment.status == "active":
                    position = f"{enrolment.track} · {enrolment.step or 'start'}"
                else:
                    position = f"{enrolment.status}: {enrolment.exit_reason}"
                rows.append(
                    LeadRow(
                        email=lead.email,
                        company=lead.account.name if lead.account and lead.account.name else "—",
                        timezone=lead.timezone or settings.default_timezone,
                        temperature=lead.temperature,
                        stage=lead.stage,
                        position=position,
                        emails=sent.get(lead.id, []),
                    )
                )
            return rows
    finally:
        runtime.close()


def engagement_counts(settings: Settings) -> dict[str, Counter[str]]:
    """Events by type, human and machine apart (what reports show)."""
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            counts: dict[str, Counter[str]] = {"human": Counter(), "machine": Counter()}
            for kind, machine, count in session.execute(
                select(Event.type, Event.is_machine, func.count()).group_by(
                    Event.type, Event.is_machine
                )
            ):
                counts["machine" if machine else "human"][kind] = count
            return counts
    finally:
        runtime.close()


@dataclass(frozen=True)
class HandoffRow:
    """One line of the demo's handoff listing."""

    id: int
    created_at: datetime
    lead: str
    company: str
    owner: str
    why: str
    status: str
    sla: str


def handoff_rows(settings: Settings) -> list[HandoffRow]:
    """Every handoff, oldest first, as `nurture handoffs list` shows them."""
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            rows = session.execute(
                select(Handoff, Lead, SalesRep, HandoffSla)
                .join(Lead, Lead.id == Handoff.lead_id)
                .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
                .outerjoin(HandoffSla, HandoffSla.handoff_id == Handoff.id)
                .order_by(Handoff.id)
            ).all()
            result = []
            for handoff, lead, rep, sla in rows:
                status = handoff.status
                if handoff.reject_reason:
                    status += f": {handoff.reject_reason}"
                elif handoff.outcome:
                    status += f": {handoff.outcome}"
                    if handoff.deal_value is not None:
                        status += f" ({handoff.deal_currency} {handoff.deal_value:,.0f})"
                sla_text = "—"
                if sla is not None:
                    sla_text = sla.status
                    if sla.response_business_seconds is not None:
                        sla_text += f" ({sla.response_business_seconds / 60:.0f} business min)"
                    elif sla.status == "pending":
                        sla_text += f" (due {sla.due_at:%a %d %b %H:%M} UTC)"
                result.append(
                    HandoffRow(
                        id=handoff.id,
                        created_at=handoff.created_at,
                        lead=lead.email,
                        company=lead.account.name if lead.account and lead.account.name else "—",
                        owner=rep.name if rep else "nobody",
                        why=handoff.qualification_rule
                        + (f", fit {handoff.fit_grade}" if handoff.fit_grade else ""),
                        status=status,
                        sla=sla_text,
                    )
                )
            return result
    finally:
        runtime.close()


@dataclass
class SalesSummary:
    """Where the handoffs stand at the end: waiting for a verdict (and how many of those
    are past their deadline), accepted and still open, won (with the deals' total per
    currency), lost, rejected, and reassigned to another rep."""

    handoffs: int = 0
    waiting: int = 0
    late: int = 0
    open: int = 0
    won: int = 0
    won_value: dict[str, Decimal] = field(default_factory=dict)
    lost: int = 0
    rejected: int = 0
    reassigned: int = 0


def sales_summary(settings: Settings, now: datetime) -> SalesSummary:
    """Count the handoffs by where they stand at ``now``."""
    runtime = Runtime.from_settings(settings)
    try:
        with runtime.sessions() as session:
            rows = session.execute(
                select(Handoff, HandoffSla).outerjoin(
                    HandoffSla, HandoffSla.handoff_id == Handoff.id
                )
            ).all()
    finally:
        runtime.close()
    summary = SalesSummary(handoffs=len(rows))
    for handoff, sla in rows:
        if handoff.status == "offered":
            summary.waiting += 1
            if sla is not None and sla.responded_at is None and sla.due_at <= now:
                summary.late += 1
        elif handoff.outcome == "won":
            summary.won += 1
            if handoff.deal_value is not None:
                currency = handoff.deal_currency or ""
                summary.won_value[currency] = (
                    summary.won_value.get(currency, Decimal(0)) + handoff.deal_value
                )
        elif handoff.outcome == "lost":
            summary.lost += 1
        elif handoff.status in ("accepted", "converted"):
            summary.open += 1
        elif handoff.status == "rejected":
            summary.rejected += 1
        elif handoff.status == "reassigned":
            summary.reassigned += 1
    return summary

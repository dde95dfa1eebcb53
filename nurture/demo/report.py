"""What the demo shows: the run's own account (``DemoResult``), and where the leads and
handoffs ended up, read back from the demo instance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
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
                sla_text = "—"
                if sla is not None:
                    sla_text = sla.status
                    if sla.response_business_seconds is not None:
                        sla_text += f" ({sla.response_business_seconds / 60:.0f} business min)"
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

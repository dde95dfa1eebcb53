"""SLA use cases. ``start`` and ``respond`` run in the transaction of the handoff action
that causes them; ``run_due`` is the worker's: one transaction per batch of due clocks,
each clock in a savepoint so one failure does not hold up the others."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from nurture.handoff import mail
from nurture.handoff.assignment import LeadFacts, assign
from nurture.handoff.reps import rep_states
from nurture.handoff.sla.policy import Hours, clock_for, compliance, describe_deadline
from nurture.handoff.team_fields import parse_working_hours
from nurture.handoff.team_sync import active_team
from nurture.handoff.trail import record_action, timeline_event
from nurture.handoff.verdicts import reassign
from nurture.handoff.webhooks import enqueue
from nurture.models import Handoff, HandoffSla, Lead, SalesRep
from nurture.platform.config import WindowDefault
from nurture.platform.db import is_sqlite, peek, transaction
from nurture.platform.policies import SlaPolicy
from nurture.platform.runtime import Runtime, settings_of

log = logging.getLogger(__name__)

# What the notification says when no SLA is configured.
NO_SLA_TEXT = "as soon as you can"
BATCH = 200


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def hours_of(rep: SalesRep | None, session: Session) -> tuple[Hours, str, str]:
    """The working week the clock counts in: the owner's, else (unowned lead, or hours that
    no longer parse) the default send window in the default timezone. Also returns the
    timezone name and the hours as text, recorded with the clock."""
    settings = settings_of(session)
    if rep is not None:
        try:
            parsed = parse_working_hours(rep.working_hours)
            zone = ZoneInfo(rep.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            log.warning("rep %s has unusable working hours; the SLA uses the default", rep.id)
        else:
            hours = Hours(parsed.days, parsed.start, parsed.end, zone)
            return hours, rep.timezone, rep.working_hours
    name = settings.default_timezone if settings else "UTC"
    window = settings.send_window if settings else None

    window = window or WindowDefault()
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    days = ",".join(names[day] for day in sorted(window.days))
    # Stored with the clock and parsed again for compliance: the team file's notation.
    end = "24:00" if window.end == time.max else f"{window.end:%H:%M}"
    text = f"{days} {window.start:%H:%M}-{end}"
    return Hours(window.days, window.start, window.end, ZoneInfo(name)), name, text


def _hours_from_row(row: HandoffSla) -> Hours:
    parsed = parse_working_hours(row.working_hours)
    return Hours(parsed.days, parsed.start, parsed.end, ZoneInfo(row.timezone))


def policy_of(session: Session) -> SlaPolicy | None:
    """The configured policy (``NURTURE_SLA_*``); None when the SLA is off."""
    settings = settings_of(session)
    return settings.sla if settings is not None else SlaPolicy()


def start(session: Session, handoff: Handoff, now: datetime) -> HandoffSla | None:
    """Start the handoff's clock and put its deadline in the notification's content."""
    policy = policy_of(session)
    if policy is None:
        handoff.snapshot = {
            **(handoff.snapshot or {}),
            "sla": {"deadline": NO_SLA_TEXT, "due_at": None},
        }
        return None
    owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
    hours, zone_name, hours_text = hours_of(owner, session)
    clock = clock_for(policy, hours, now)
    row = HandoffSla(
        handoff_id=handoff.id,
        policy=policy.describe(),
        timezone=zone_name,
        working_hours=hours_text,
        started_at=now,
        due_at=clock.due_at,
        remind_at=clock.remind_at,
        status="pending",
        escalation={},
    )
    session.add(row)
    # The snapshot is what the notification renders: a new dict, so the JSON column sees
    # the change.
    handoff.snapshot = {
        **(handoff.snapshot or {}),
        "sla": {
            "deadline": describe_deadline(clock.due_at, hours.zone, policy),
            "due_at": _iso(clock.due_at),
            "policy": policy.describe(),
            # With these the notification writes the deadline in its reader's language.
            "timezone": zone_name,
        },
    }
    return row


def respond(session: Session, handoff: Handoff, response: str, now: datetime) -> None:
    """The owner accepted, rejected or converted the lead: record the time it took and
    whether the deadline was met (a breached clock stays breached, with the late time)."""
    row = session.get(HandoffSla, handoff.id)
    if row is None or row.responded_at is not None:
        return
    verdict = compliance(_hours_from_row(row), row.started_at, row.due_at, now)
    row.responded_at = now
    row.response = response
    row.response_seconds = verdict.seconds
    row.response_business_seconds = verdict.business_seconds
    if row.status == "pending":
        row.status = verdict.status


def reassigned(session: Session, handoff: Handoff, now: datetime) -> None:
    """The handoff went to another rep: a clock still running is void (the new handoff has
    its own); a breached one keeps its verdict."""
    row = session.get(HandoffSla, handoff.id)
    if row is None:
        return
    if row.status == "pending":
        row.status = "void"
    if row.responded_at is None:
        row.response = "reassigned"


# ---------------------------------------------------------------- the worker


@dataclass
class SlaReport:
    """What one pass did."""

    reminded: int = 0
    breached: int = 0
    reassigned: int = 0
    managers_told: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"SLA: {self.reminded} reminded, {self.breached} breached "
            f"({self.reassigned} reassigned, {self.managers_told} managers told)"
        )

    @property
    def anything(self) -> bool:
        return bool(self.reminded or self.breached)


def run_due(runtime: Runtime, now: datetime) -> SlaReport:
    """Remind owners whose reminder time has come and escalate handoffs past their
    deadline. Emails are queued as messages (sent by the engine's tick); webhooks as
    deliveries. Safe with several workers (claims skip locked rows on PostgreSQL)."""
    report = SlaReport()
    due = (
        HandoffSla.status == "pending",
        or_(
            HandoffSla.due_at <= now,
            and_(HandoffSla.remind_at <= now, HandoffSla.reminded_at.is_(None)),
        ),
    )
    with peek(runtime.engine) as connection:
        # Most ticks nothing is due: a plain read, and no write transaction (on SQLite, no
        # write lock for the tracking capture to wait on).
        if connection.execute(select(HandoffSla.handoff_id).where(*due).limit(1)).first() is None:
            return report
    while True:
        with transaction(runtime.sessions) as session:
            query = select(HandoffSla).where(*due).order_by(HandoffSla.due_at).limit(BATCH)
            if not is_sqlite(runtime.engine):
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            for row in rows:
                try:
                    with session.begin_nested():
                        _advance(session, row, now, report)
                except Exception as exc:  # one bad clock must not stop the others
                    log.exception("SLA of handoff %s failed", row.handoff_id)
                    report.problems.append(f"handoff {row.handoff_id}: {exc}")
                    # Not retried every tick: the next look is in an hour.
                    row.due_at = max(row.due_at, now) + timedelta(hours=1)
        if len(rows) < BATCH:
            return report


def _advance(session: Session, row: HandoffSla, now: datetime, report: SlaReport) -> None:
    handoff = session.get(Handoff, row.handoff_id)
    assert handoff is not None
    if handoff.status != "offered":
        # Decided without the hook (an older version, a manual fix): close the clock.
        if handoff.status == "reassigned":
            reassigned(session, handoff, now)
        else:
            respond(session, handoff, handoff.status, handoff.decided_at or now)
        return
    if row.due_at <= now:
        _escalate(session, handoff, row, now, report)
        return
    # The reminder: to the owner (or, for a lead nobody could take, the manager).

    owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
    to = owner.email if owner else _manager(session, None)
    row.reminded_at = now
    if to:
        message = mail.queue(session, handoff, kind="sla_reminder", to_address=to, now=now)
        row.reminder_message_id = message.id
    record_action(session, handoff, "sla_reminded", "system:sla", now, {"to": to})
    report.reminded += 1


def _manager(session: Session, owner: SalesRep | None) -> str | None:
    if owner is not None and owner.manager_email:
        return owner.manager_email

    team = active_team(session)
    return team.manager_email if team else None


def _escalate(
    session: Session, handoff: Handoff, row: HandoffSla, now: datetime, report: SlaReport
) -> None:
    policy = policy_of(session) or SlaPolicy()
    owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
    row.status = "breached"
    row.breached_at = row.due_at
    row.escalated_at = now
    report.breached += 1
    escalation: dict[str, Any] = {
        "owner": owner.email if owner else None,
        "policy": row.policy,
        "actions": list(policy.escalate),
    }
    manager = _manager(session, owner)
    # The breach is announced first, about the handoff that missed its deadline.
    record_action(session, handoff, "sla_breached", "system:sla", now, dict(escalation))
    timeline_event(session, handoff, "handoff.sla_breached", now, owner=escalation["owner"])
    new: Handoff | None = None
    if "reassign" in policy.escalate:
        rep = next_rep(session, handoff, now)
        if rep is None:
            escalation["reassigned_to"] = None
            escalation["reassign_problem"] = "nobody else is available"
        else:
            new = reassign(
                session,
                handoff.id,
                to=rep,
                reason=f"SLA breached: no response within {row.policy}",
                actor="system:sla",
                now=now,
            )
            escalation["reassigned_to"] = rep.email
            escalation["handoff"] = new.id
            report.reassigned += 1
    if "manager" in policy.escalate and manager:
        escalation["manager"] = manager
        row.escalation = escalation
        message = mail.queue(session, handoff, kind="sla_escalation", to_address=manager, now=now)
        row.escalation_message_id = message.id
        report.managers_told += 1
    row.escalation = escalation
    record_action(session, handoff, "sla_escalated", "system:sla", now, dict(escalation))
    enqueue(session, handoff, "handoff.sla.breached", now, extra={"escalation": escalation})


def next_rep(session: Session, handoff: Handoff, now: datetime) -> SalesRep | None:
    """The rep the assignment rules would choose now, the current owner excluded."""

    team = active_team(session)
    if team is None:
        return None
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None
    account = lead.account
    states = {
        email: state
        for email, state in rep_states(session, lock=True).items()
        if state.id != handoff.rep_id
    }
    country = (account.country if account else None) or (lead.attributes or {}).get("country")
    facts = LeadFacts(
        country=country.upper() if isinstance(country, str) and len(country) == 2 else None,
        employees=account.employees if account else None,
        account_name=(account.name or account.domain) if account else None,
        # The account owner is who missed the deadline (or is away): do not route back.
        account_owner_id=None,
    )
    decision = assign(team, facts, states, now)
    if decision.rep_id is None:
        return None
    rep = session.get(SalesRep, decision.rep_id)
    if rep is not None:
        top = max((state.last_assigned_seq for state in states.values()), default=0)
        rep.last_assigned_seq = top + 1
        rep.last_assigned_at = now
    return rep


# ---------------------------------------------------------------- reporting


@dataclass(frozen=True)
class ComplianceRow:
    """SLA compliance of one rep (or everyone)."""

    rep: str
    handoffs: int
    met: int
    breached: int
    pending: int
    median_business_minutes: float | None

    @property
    def rate(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else self.met / decided


def compliance_report(session: Session, since: datetime | None = None) -> list[ComplianceRow]:
    """Per rep: handoffs with a clock, met, breached, pending, and the median working time
    to respond. ``void`` clocks (reassigned by hand in time) are left out."""
    # Only the three values the report needs: a clock row carries its business calendar
    # (JSON), and decoding thousands of those was most of the report's time.
    query = (
        select(SalesRep.email, HandoffSla.status, HandoffSla.response_business_seconds)
        .select_from(HandoffSla)
        .join(Handoff, Handoff.id == HandoffSla.handoff_id)
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(HandoffSla.status != "void")
    )
    if since is not None:
        query = query.where(HandoffSla.started_at >= since)
    by_rep: dict[str, list[tuple[str, float | None]]] = {}
    for email, status, seconds in session.execute(query):
        by_rep.setdefault(email or "(nobody)", []).append((status, seconds))
    rows = []
    for rep, clocks in sorted(by_rep.items()):
        times = sorted(seconds / 60 for _, seconds in clocks if seconds is not None)
        median = times[len(times) // 2] if times else None
        statuses = Counter(status for status, _ in clocks)
        rows.append(
            ComplianceRow(
                rep=rep,
                handoffs=len(clocks),
                met=statuses["met"],
                breached=statuses["breached"],
                pending=statuses["pending"],
                median_business_minutes=median,
            )
        )
    return rows

"""Everything the web app shows about one lead: profile, fit with its reasons and BANT,
the score explained and its history, lifecycle, campaigns, timeline, emails, consent and
preferences, handoffs.

It assembles what the engine already computes (``scoring.lead_score`` and
``lead_timeline`` as ``nurture leads show`` and the API use them, the stored fit, the
lifecycle's ``stage_history``); nothing is decided here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from nurture.consent.rules import is_mailable
from nurture.leads.lifecycle import STAGES, allowed_next, stage_history
from nurture.leads.profile import BANT_ATTRIBUTES
from nurture.models import (
    Campaign,
    Enrollment,
    EnrollmentHistory,
    Event,
    Handoff,
    Lead,
    Message,
    SalesRep,
    StageChange,
)
from nurture.reports.keyset import after_row
from nurture.scoring.rules import score_history
from nurture.scoring.service import LeadScore, lead_score
from nurture.scoring.timeline import TimelineEntry, lead_timeline
from nurture.scoring.versions import active_model

TIMELINE_PAGE = 50
MESSAGES_PAGE = 50
# The score chart: one point a day over this many days.
HISTORY_DAYS = 90


@dataclass(frozen=True)
class BantAnswer:
    """One BANT answer (a custom attribute) and what the ICP made of it."""

    name: str
    value: Any
    points: int | None
    band: str | None


@dataclass(frozen=True)
class ScorePoint:
    """The score at the end of one day."""

    at: datetime
    score: float


@dataclass(frozen=True)
class CampaignEntry:
    """One enrolment of the lead: where it stands or why it ended."""

    id: int
    campaign_key: str
    campaign_name: str
    entry_number: int
    status: str
    track: str
    step: str | None
    next_due_at: datetime | None
    enrolled_at: datetime
    finished_at: datetime | None
    exit_reason: str | None
    last_action: str | None
    last_action_at: datetime | None


@dataclass(frozen=True)
class HandoffEntry:
    """One handoff of the lead to sales."""

    id: int
    status: str
    rep: str | None
    created_at: datetime
    decided_at: datetime | None
    qualification_rule: str
    assignment_reason: str
    reject_reason: str | None
    reject_note: str | None
    outcome: str | None
    deal_value: Any
    deal_currency: str | None


@dataclass(frozen=True)
class LeadOverview:
    """The lead's page, apart from the paged timeline and emails."""

    lead: Lead
    company: str | None
    owner: SalesRep | None
    now: datetime
    score: LeadScore | None
    bands: tuple[float, float] | None
    history: list[ScorePoint]
    bant: list[BantAnswer]
    stages: list[StageChange]
    next_stages: list[str]
    campaigns: list[CampaignEntry]
    handoffs: list[HandoffEntry]
    mailable: bool
    other_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def decayed_score(self) -> float:
        return self.lead.decayed_score(self.now)


def find_lead(session: Session, lead_id: int) -> Lead | None:
    """The lead with this id, with its account, or None."""
    return session.get(Lead, lead_id, options=[selectinload(Lead.account)])


def lead_overview(session: Session, lead: Lead, now: datetime) -> LeadOverview:
    """Everything about ``lead`` at ``now`` but its timeline and emails."""
    score = lead_score(session, lead, now)
    active = active_model(session)
    bands = (active.model.bands.warm, active.model.bands.hot) if active else None
    account = lead.account
    owner = session.get(SalesRep, lead.owner_id) if lead.owner_id is not None else None
    return LeadOverview(
        lead=lead,
        company=(account.name or account.domain) if account is not None else None,
        owner=owner,
        now=now,
        score=score,
        bands=bands,
        history=_history(score, now),
        bant=_bant(lead),
        stages=list(reversed(stage_history(session, lead.id))),
        next_stages=[s for s in STAGES if s in allowed_next(lead.stage)],
        campaigns=_campaigns(session, lead.id),
        handoffs=_handoffs(session, lead.id),
        mailable=is_mailable(lead),
        other_attributes={
            k: v for k, v in sorted((lead.attributes or {}).items()) if k not in BANT_ATTRIBUTES
        },
    )


def _history(score: LeadScore | None, now: datetime) -> list[ScorePoint]:
    if score is None:
        return []
    days = [now - timedelta(days=HISTORY_DAYS - 1 - n) for n in range(HISTORY_DAYS)]
    values = score_history(score.explanation, days)
    return [ScorePoint(at, value) for at, value in zip(days, values, strict=True)]


def _bant(lead: Lead) -> list[BantAnswer]:
    attributes = lead.attributes or {}
    reasons = {
        str(reason.get("field")): reason
        for reason in lead.fit_reasons or []
        if reason.get("kind") == "criterion"
    }
    answers = []
    for name in BANT_ATTRIBUTES:
        reason = reasons.get(f"attributes.{name}")
        answers.append(
            BantAnswer(
                name=name,
                value=attributes.get(name),
                points=reason.get("points") if reason else None,
                band=(reason.get("band") or None) if reason else None,
            )
        )
    return answers


def _campaigns(session: Session, lead_id: int) -> list[CampaignEntry]:
    rows = session.execute(
        select(Enrollment, Campaign.key, Campaign.name)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.lead_id == lead_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
    ).all()
    last: dict[int, EnrollmentHistory] = {}
    if rows:
        ids = [enrollment.id for enrollment, _, _ in rows]
        newest = (
            select(EnrollmentHistory.enrollment_id, func.max(EnrollmentHistory.id).label("id"))
            .where(EnrollmentHistory.enrollment_id.in_(ids))
            .group_by(EnrollmentHistory.enrollment_id)
            .subquery()
        )
        for entry in session.scalars(
            select(EnrollmentHistory).join(newest, newest.c.id == EnrollmentHistory.id)
        ):
            last[entry.enrollment_id] = entry
    return [
        CampaignEntry(
            id=e.id,
            campaign_key=key,
            campaign_name=name,
            entry_number=e.entry_number,
            status=e.status,
            track=e.track,
            step=e.step,
            next_due_at=e.next_due_at,
            enrolled_at=e.enrolled_at,
            finished_at=e.finished_at,
            exit_reason=e.exit_reason,
            last_action=last[e.id].action if e.id in last else None,
            last_action_at=last[e.id].at if e.id in last else None,
        )
        for e, key, name in rows
    ]


def _handoffs(session: Session, lead_id: int) -> list[HandoffEntry]:
    rows = session.execute(
        select(Handoff, SalesRep.name)
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .where(Handoff.lead_id == lead_id)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
    ).all()
    return [
        HandoffEntry(
            id=h.id,
            status=h.status,
            rep=rep,
            created_at=h.created_at,
            decided_at=h.decided_at,
            qualification_rule=h.qualification_rule,
            assignment_reason=h.assignment_reason,
            reject_reason=h.reject_reason,
            reject_note=h.reject_note,
            outcome=h.outcome,
            deal_value=h.deal_value,
            deal_currency=h.deal_currency,
        )
        for h, rep in rows
    ]


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class TimelinePage:
    """A page of the timeline, newest first, and where the next one starts."""

    entries: list[TimelineEntry]
    next_before: tuple[datetime, int] | None


def timeline_page(
    session: Session,
    lead: Lead,
    now: datetime,
    *,
    before: tuple[datetime, int] | None = None,
    machine: bool | None = None,
    size: int = TIMELINE_PAGE,
    overview: LeadOverview | None = None,
) -> TimelinePage:
    """The lead's events before ``before`` (keyset), machine hits marked with their reasons
    and each scored event's points (``machine``: only machine hits / only people's).

    ``overview``: the lead's overview at the same ``now``, whose score is used rather than
    computed again (scoring reads every event of the lead: thousands for a busy one)."""
    score = overview.score if overview is not None else lead_score(session, lead, now)
    entries = lead_timeline(
        session,
        lead.id,
        limit=size + 1,
        before=before[0] if before else None,
        before_id=before[1] if before else None,
        machine=machine,
        explanation=score.explanation if score else None,
    )
    more = len(entries) > size
    entries = entries[:size]
    last = entries[-1] if more and entries else None
    return TimelinePage(entries, (last.occurred_at, last.id) if last else None)


# ---------------------------------------------------------------- emails


@dataclass(frozen=True)
class MessageEntry:
    """One email the lead was sent, with what people (and machines) did with it."""

    id: int
    kind: str
    campaign: str | None
    step_key: str | None
    template: str
    subject: str | None
    status: str
    queued_at: datetime
    sent_at: datetime | None
    bounce_status: str | None
    opened: int  # human opens
    clicked: int  # human clicks
    machine_hits: int


@dataclass(frozen=True)
class MessagesPage:
    """A page of the lead's emails, newest first, and where the next one starts."""

    messages: list[MessageEntry]
    next_before: tuple[datetime, int] | None


_ENGAGEMENT = ("email.opened", "email.clicked")


def messages_page(
    session: Session,
    lead_id: int,
    *,
    before: tuple[datetime, int] | None = None,
    size: int = MESSAGES_PAGE,
) -> MessagesPage:
    """The lead's emails (``ix_messages_lead_id_queued_at``), newest first."""
    query = (
        select(Message, Campaign.key)
        .outerjoin(Campaign, Campaign.id == Message.campaign_id)
        .where(Message.lead_id == lead_id)
        .order_by(Message.queued_at.desc(), Message.id.desc())
        .limit(size + 1)
    )
    if before is not None:
        query = query.where(after_row((Message.queued_at, Message.id), before, descending=True))
    rows = session.execute(query).all()
    more = len(rows) > size
    rows = rows[:size]
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if rows:
        for message_id, kind, machine, count in session.execute(
            select(Event.message_id, Event.type, Event.is_machine, func.count())
            .where(
                Event.message_id.in_([m.id for m, _ in rows]),
                Event.type.in_(_ENGAGEMENT),
            )
            .group_by(Event.message_id, Event.type, Event.is_machine)
        ):
            if message_id is not None:
                counts[message_id]["machine" if machine else kind] += int(count)
    entries = [
        MessageEntry(
            id=m.id,
            kind=m.kind,
            campaign=key,
            step_key=m.step_key,
            template=m.template,
            subject=m.subject,
            status=m.status,
            queued_at=m.queued_at,
            sent_at=m.sent_at,
            bounce_status=m.bounce_status,
            opened=counts[m.id]["email.opened"],
            clicked=counts[m.id]["email.clicked"],
            machine_hits=counts[m.id]["machine"],
        )
        for m, key in rows
    ]
    last = rows[-1][0] if more and rows else None
    return MessagesPage(entries, (last.queued_at, last.id) if last else None)

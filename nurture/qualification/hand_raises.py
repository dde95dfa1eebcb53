"""Answering every hand-raise once: the auto-reply, and the lead handed to sales or held in
marketing's review queue (``hand_raise_rules`` decides; this module reads and writes).

Runs at the end of ``evaluate_readiness``, in the caller's transaction, for the leads it
evaluated. A hand-raise is the ``lead.hand_raised`` event scoring writes; its
``HandRaise`` row (unique per event) is what makes the answer happen once: a worker that
dies before the commit rolls the event, the row and the queued emails back together, and
the next rescore answers it again from scratch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from nurture.consent.rules import may_answer
from nurture.handoff import Qualification as HandoffQualification
from nurture.handoff import hand_off
from nurture.handoff.lookup import open_handoff
from nurture.handoff.model import HandoffError
from nurture.handoff.service import auto_reply_view
from nurture.handoff.team_sync import active_team
from nurture.leads.stages import SALES_STAGES
from nurture.models import Event, Handoff, HandRaise, Lead, User
from nurture.platform.runtime import settings_of
from nurture.qualification.hand_raise_rules import Answer, HandRaiseFacts, answer
from nurture.qualification.readiness import LeadFacts, Readiness, Verdict
from nurture.qualification.versions import active_readiness
from nurture.sending import kinds

log = logging.getLogger(__name__)

# The role whose people review hand-raisers outside the ICP (nurture.auth.roles); admins
# are told instead when the instance has no marketer yet, so a review is never unseen.
REVIEWER_ROLE = "marketer"
FALLBACK_ROLE = "admin"
# The stage-change actor and handoff rule of a hand-raiser handed off by the setting.
OUTSIDE_ICP_RULE = "hand-raiser-outside-icp"


def unanswered(session: Session, lead_ids: Iterable[int]) -> dict[int, list[Event]]:
    """The ``lead.hand_raised`` events of ``lead_ids`` not answered yet, oldest first."""
    ids = sorted(set(lead_ids))
    if not ids:
        return {}
    answered = select(HandRaise.id).where(HandRaise.event_id == Event.id).exists()
    found: dict[int, list[Event]] = {}
    for event in session.scalars(
        select(Event)
        .where(Event.lead_id.in_(ids), Event.type == "lead.hand_raised", ~answered)
        .order_by(Event.occurred_at, Event.id)
    ):
        assert event.lead_id is not None
        found.setdefault(event.lead_id, []).append(event)
    return found


def answer_hand_raises(
    session: Session,
    lead_ids: Iterable[int],
    now: datetime,
    *,
    handed_off: Mapping[int, Handoff] | None = None,
    verdicts: Sequence[tuple[LeadFacts, Verdict]] = (),
) -> list[HandRaise]:
    """Answer the new hand-raises of ``lead_ids`` (``handed_off``: the handoffs readiness
    made in this evaluation, by lead id; ``verdicts``: its verdicts, for the reasons)."""
    pending = unanswered(session, lead_ids)
    if not pending:
        return []
    handed_off = handed_off or {}
    why_not = {facts.lead_id: _why_not(verdict) for facts, verdict in verdicts}
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead).where(Lead.id.in_(sorted(pending))).options(selectinload(Lead.account))
        )
    }
    active = active_readiness(session)
    readiness = active.readiness if active else None
    rows: list[HandRaise] = []
    for lead_id, events in sorted(pending.items()):
        lead = leads.get(lead_id)
        if lead is None or lead.erased_at is not None:
            continue
        handoff = handed_off.get(lead_id)
        # A savepoint per lead: another transaction that answered this hand-raise first
        # (the unique event id) costs only this lead's answer, never the caller's batch.
        try:
            with session.begin_nested():
                version = active_version(active)
                answered = _answer_lead(
                    session, lead, events, handoff, readiness, why_not.get(lead_id), now, version
                )
                rows.extend(answered)
        except IntegrityError:
            log.info("a hand-raise of lead %s was answered by another transaction", lead_id)
    return rows


def _answer_lead(
    session: Session,
    lead: Lead,
    events: list[Event],
    handoff: Handoff | None,
    readiness: Readiness | None,
    why_not: str | None,
    now: datetime,
    version: int | None,
) -> list[HandRaise]:
    # Only the latest is answered; an older one never answered (two in one batch) is
    # recorded as history, so nobody gets two replies for one conversation.
    rows = [_record(session, lead, older, Answer("stale", False, ()), now) for older in events[:-1]]
    latest = events[-1]
    existing = None if handoff else open_handoff(session, lead.id)
    facts = HandRaiseFacts(
        lead_id=lead.id,
        raised_at=_raised_at(latest),
        event_type=(latest.properties or {}).get("event_type"),
        fit_grade=lead.fit_grade,
        fit_score=lead.fit_score,
        may_answer=may_answer(lead),
        with_sales=existing is not None or lead.stage in SALES_STAGES,
        handed_off=handoff is not None,
        handoff_replied=handoff is not None and handoff.auto_reply_message_id is not None,
        why_not=why_not,
    )
    decision = answer(facts, readiness, now)
    rows.append(_act(session, lead, latest, decision, now, handoff or existing, version))
    return rows


def active_version(active: Any) -> int | None:
    """The active readiness file's version number (None without one)."""
    return getattr(active, "number", None)


def _why_not(verdict: Verdict) -> str | None:
    if verdict.ready:
        # Ready, yet not in ``handed_off``: its handoff was refused and undone.
        return "its handoff to sales failed (the log says why)"
    if verdict.unmet:
        return "; ".join(f"rule {rule}: {text}" for rule, text in verdict.unmet.items())
    return verdict.why_not


def _raised_at(event: Event) -> datetime:
    raw = (event.properties or {}).get("raised_at")
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    return event.occurred_at


def _record(
    session: Session, lead: Lead, event: Event, decision: Answer, now: datetime
) -> HandRaise:
    row = HandRaise(
        lead_id=lead.id,
        event_id=event.id,
        event_type=(event.properties or {}).get("event_type"),
        raised_at=_raised_at(event),
        created_at=now,
        route=decision.route,
        reasons=list(decision.reasons),
        rule=decision.rule,
        fit_grade=lead.fit_grade,
        fit_score=lead.fit_score,
    )
    session.add(row)
    return row


def _act(
    session: Session,
    lead: Lead,
    event: Event,
    decision: Answer,
    now: datetime,
    handoff: Handoff | None,
    version: int | None,
) -> HandRaise:
    if decision.route == "sales":
        handoff, decision = _to_sales(session, lead, decision, now, version)
    row = _record(session, lead, event, decision, now)
    if handoff is not None:
        row.handoff_id = handoff.id
        if handoff.auto_reply_message_id is not None and decision.route in ("handoff", "sales"):
            # The handoff answered the person itself, naming the owner.
            row.auto_reply_message_id = handoff.auto_reply_message_id
            row.reply = (handoff.snapshot or {}).get("auto_reply")
    if decision.reply and row.auto_reply_message_id is None:
        _queue_reply(session, row, lead, handoff, now)
    if decision.review:
        row.review_status = "open"
        row.reviewers = _notify_reviewers(session, row, now)
    session.flush()
    return row


def _to_sales(
    session: Session, lead: Lead, decision: Answer, now: datetime, version: int | None
) -> tuple[Handoff | None, Answer]:
    """Hand an outside-ICP hand-raiser to sales (the setting), or, when the handoff is
    refused (a disqualified lead), hold it for review with the reason."""
    qualification = HandoffQualification(
        OUTSIDE_ICP_RULE, decision.reasons, hand_raiser=True, readiness_version=version
    )
    try:
        with session.begin_nested():
            handoff = hand_off(session, lead, qualification, now)
    except HandoffError as error:
        reasons = (*decision.reasons, f"not handed to sales: {error.message}")
        return None, Answer("review", decision.reply, reasons, decision.rule, True)
    return handoff, decision


def _queue_reply(
    session: Session, row: HandRaise, lead: Lead, handoff: Handoff | None, now: datetime
) -> None:
    settings = settings_of(session)
    if handoff is not None and (handoff.snapshot or {}).get("auto_reply"):
        row.reply = handoff.snapshot["auto_reply"]
    else:
        # Nobody owns the lead yet: the reply names the team's contact.
        locale = lead.locale or (settings.default_locale if settings else None)
        row.reply = auto_reply_view(active_team(session), None, now, locale)
    message = kinds.queue_message(
        session,
        kinds.HAND_RAISE_REPLY,
        lead_id=lead.id,
        to_address=lead.email,
        mail_from=settings.mail_from if settings else "nurture@localhost",
        now=now,
    )
    session.flush()
    row.auto_reply_message_id = message.id


def reviewers(session: Session) -> list[User]:
    """The people told about a hand-raise held for review: active marketers, else admins."""
    for role in (REVIEWER_ROLE, FALLBACK_ROLE):
        found = list(
            session.scalars(
                select(User).where(User.role == role, User.disabled_at.is_(None)).order_by(User.id)
            )
        )
        if found:
            return found
    return []


def _notify_reviewers(session: Session, row: HandRaise, now: datetime) -> list[str]:
    people = reviewers(session)
    if not people:
        log.warning("hand-raise %s is in review but nobody has the marketer or admin role", row.id)
        return []
    settings = settings_of(session)
    for person in people:
        kinds.queue_message(
            session,
            kinds.HAND_RAISE_REVIEW,
            lead_id=row.lead_id,
            to_address=person.email,
            mail_from=settings.mail_from if settings else "nurture@localhost",
            now=now,
        )
    return [person.email for person in people]

"""Handoff use cases: hand a qualified lead to sales, and record sales' verdict (accept,
reject with a reason, convert, reassign). Each runs in the caller's transaction; emails
are queued as ``Message`` rows the engine sends at its next tick, after the commit.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.handoff import mail
from nurture.handoff.assignment import Assignment, LeadFacts, RepState, assign
from nurture.handoff.context import build_snapshot, lead_campaign, lead_source, rep_view
from nurture.handoff.model import (
    FINAL_OUTCOMES,
    OPEN_STATUSES,
    OUTCOME_STAGES,
    HandoffError,
    QualificationLike,
    outcome_error,
    stage_path,
)
from nurture.handoff.team import RejectReason, Team
from nurture.handoff.team_fields import parse_working_hours
from nurture.handoff.team_parser import DEFAULT_REASONS
from nurture.handoff.team_sync import active_team
from nurture.leads.lifecycle import StageError, change_stage
from nurture.models import Account, Event, Handoff, HandoffAction, Lead, SalesRep
from nurture.platform import hooks
from nurture.platform.db import is_sqlite
from nurture.platform.runtime import settings_of

log = logging.getLogger(__name__)

# A hand-raise this recent at qualification time counts as the qualifying signal.
HAND_RAISE_WINDOW = timedelta(hours=24)


# ---------------------------------------------------------------- hand off


def hand_off(
    session: Session, lead: Lead, qualification: QualificationLike, now: datetime
) -> Handoff:
    """Hand ``lead`` to sales because of ``qualification`` (``.rule``, ``.reasons``).

    Idempotent: a lead with an open handoff (offered or accepted) gets that one back and
    nothing else happens. Otherwise the lead moves to ``mql`` (``nurture.leads.lifecycle``; its
    nurture tracks end at the next tick), gets an owner by the team's assignment rules,
    and a ``Handoff`` row records who, why and the context; the owner's notification and,
    for a hand-raiser, the auto-reply are queued for the engine's next tick. Nobody
    available: the handoff is created without an owner, flagged, and the team manager is
    notified instead. Raises ``HandoffError`` when the lead cannot become an MQL (it is
    already with sales, a customer, or disqualified).
    """
    _lock_lead(session, lead)
    existing = open_handoff(session, lead.id)
    if existing is not None:
        return existing
    rule = str(qualification.rule)
    reasons = [str(reason) for reason in (qualification.reasons or ())]
    hand_raiser = _is_hand_raise(qualification, lead, now)
    if lead.stage != "mql":
        try:
            change_stage(
                session,
                lead,
                "mql",
                reason="; ".join(reasons)[:500] or f"readiness rule {rule}",
                actor=f"rule:{rule}",
                now=now,
                rule=rule,
            )
        except StageError as exc:
            raise HandoffError("not_qualifiable", f"cannot hand off lead {lead.id}: {exc}") from exc

    team = active_team(session)
    decision, owner = _choose_owner(session, team, lead, now)
    lead.owner_id = owner.id if owner else None
    settings = settings_of(session)
    campaign = lead_campaign(session, lead.id)
    assignment = {
        "method": decision.method,
        "rule": decision.rule,
        "reason": decision.reason,
        "needs_owner": owner is None,
    }
    snapshot = build_snapshot(
        session,
        lead,
        rule=rule,
        reasons=reasons,
        hand_raiser=hand_raiser,
        team=team,
        owner=owner,
        assignment=assignment,
        campaign=campaign,
        now=now,
        default_timezone=settings.default_timezone if settings else "UTC",
    )
    snapshot["auto_reply"] = _auto_reply_view(team, owner, now)
    snapshot["link_expiry_days"] = (team.link_expiry if team else timedelta(days=14)).days
    why = snapshot["why"]
    handoff = Handoff(
        lead_id=lead.id,
        open_lead_id=lead.id,
        account_id=lead.account_id,
        rep_id=owner.id if owner else None,
        status="offered",
        assignment_method=decision.method,
        assignment_rule=decision.rule,
        assignment_reason=decision.reason[:1000],
        needs_owner=owner is None,
        qualification_rule=rule[:100],
        qualification_reasons=reasons,
        hand_raiser=hand_raiser,
        fit_grade=why["fit"]["grade"],
        fit_score=why["fit"]["score"],
        score=why["score"]["value"],
        temperature=lead.temperature,
        campaign=campaign,
        source=lead_source(lead),
        snapshot=snapshot,
        token=secrets.token_urlsafe(16),
        created_at=now,
    )
    session.add(handoff)
    session.flush()
    actor = f"rule:{rule}"
    record_action(session, handoff, "created", actor, now, {"rule": rule, "reasons": reasons})
    record_action(session, handoff, "assigned" if owner else "unassigned", actor, now, assignment)
    timeline_event(
        session,
        handoff,
        "handoff.created",
        now,
        rule=rule,
        owner=owner.email if owner else None,
        assignment=decision.method,
    )

    recipient = owner.email if owner else _manager_address(team)
    if recipient:
        message = mail.queue(session, handoff, kind="handoff", to_address=recipient, now=now)
        handoff.notification_message_id = message.id
        record_action(
            session,
            handoff,
            "notified",
            "system",
            now,
            {"to": recipient, "as": "owner" if owner else "manager"},
        )
    if owner is None:
        log.warning(
            "handoff %s of lead %s has no owner (%s); %s",
            handoff.id,
            lead.id,
            decision.reason,
            f"the manager {recipient} was notified"
            if recipient
            else "no manager address to notify",
        )
    if hand_raiser and lead.suppressed_at is None and lead.erased_at is None:
        # The person asked to talk to us: the reply is expected even though the lead has
        # left nurture (it is transactional, not a campaign email).
        reply = mail.queue(session, handoff, kind="auto_reply", to_address=lead.email, now=now)
        handoff.auto_reply_message_id = reply.id
        record_action(session, handoff, "auto_replied", "system", now, {"to": "lead"})
    return handoff


def open_handoff(session: Session, lead_id: int) -> Handoff | None:
    """The lead's open handoff (offered or accepted), if any."""
    return session.scalar(select(Handoff).where(Handoff.open_lead_id == lead_id))


def _lock_lead(session: Session, lead: Lead) -> None:
    # Two readiness evaluations of one lead at once (two workers) must not both create a
    # handoff: the row lock serialises them, and the second finds the first's handoff.
    # The unique open_lead_id is the backstop. SQLite has one writer at a time anyway.
    if not is_sqlite(session.get_bind().engine):
        session.execute(select(Lead.id).where(Lead.id == lead.id).with_for_update())


def _is_hand_raise(qualification: QualificationLike, lead: Lead, now: datetime) -> bool:
    explicit = getattr(qualification, "hand_raiser", None)
    if explicit is not None:
        return bool(explicit)
    raised = lead.hand_raised_at
    return raised is not None and now - raised <= HAND_RAISE_WINDOW


def _manager_address(team: Team | None) -> str | None:
    return team.manager_email if team else None


def _auto_reply_view(team: Team | None, owner: SalesRep | None, now: datetime) -> dict[str, Any]:
    """Who will call the hand-raiser, and when (from the owner's working hours)."""
    from zoneinfo import ZoneInfo

    contact = team.contact if team else None
    view: dict[str, Any] = {
        "rep": rep_view(owner, now),
        "contact": {"name": contact.name, "email": contact.email, "phone": contact.phone}
        if contact
        else None,
        "when": "shortly",
    }
    if owner is not None:
        try:
            hours = parse_working_hours(owner.working_hours)
            zone = ZoneInfo(owner.timezone)
        except (ValueError, KeyError):
            return view
        opening = hours.next_open(now, zone)
        if opening == now:
            view["when"] = "within the hour"
        elif opening.date() == now.astimezone(zone).date():
            view["when"] = f"today from {opening:%H:%M} ({owner.timezone} time)"
        else:
            view["when"] = f"on {opening:%A} from {opening:%H:%M} ({owner.timezone} time)"
    return view


# ---------------------------------------------------------------- assignment I/O


def rep_states(
    session: Session, *, lock: bool, include: set[int] | None = None
) -> dict[str, RepState]:
    """Every rep in the team (and ``include`` ids) with open handoff counts; locked on
    PostgreSQL when ``lock`` so concurrent assignments see each other's rotation."""
    query = select(SalesRep).order_by(SalesRep.id)
    if include:
        query = query.where(SalesRep.in_team.is_(True) | SalesRep.id.in_(include))
    else:
        query = query.where(SalesRep.in_team.is_(True))
    if lock and not is_sqlite(session.get_bind().engine):
        query = query.with_for_update()
    reps = list(session.scalars(query))
    counts = dict(
        session.execute(
            select(Handoff.rep_id, func.count())
            .where(Handoff.status.in_(OPEN_STATUSES), Handoff.rep_id.is_not(None))
            .group_by(Handoff.rep_id)
        ).all()
    )
    return {
        rep.email: RepState(
            id=rep.id,
            email=rep.email,
            name=rep.name,
            active=rep.active,
            in_team=rep.in_team,
            timezone=rep.timezone,
            capacity=rep.capacity,
            out_of_office_until=rep.out_of_office_until,
            open_handoffs=counts.get(rep.id, 0),
            last_assigned_seq=rep.last_assigned_seq,
        )
        for rep in reps
    }


def _choose_owner(
    session: Session, team: Team | None, lead: Lead, now: datetime
) -> tuple[Assignment, SalesRep | None]:
    if team is None:
        return Assignment(None, "unassigned", "no sales team is synced (nurture team sync)"), None
    account = lead.account
    owner_id = account.owner_id if account is not None else None
    states = rep_states(session, lock=True, include={owner_id} if owner_id else None)
    country = (account.country if account else None) or _lead_country(lead)
    facts = LeadFacts(
        country=country.upper() if country else None,
        employees=account.employees if account else None,
        account_name=(account.name or account.domain) if account else None,
        account_owner_id=owner_id,
    )
    decision = assign(team, facts, states, now)
    if decision.rep_id is None:
        return decision, None
    rep = session.get(SalesRep, decision.rep_id)
    assert rep is not None
    if decision.method in ("rule", "round_robin"):
        # The rotation moves on only for rotated leads: an account owner's extra lead does
        # not cost them their turn.
        top = max((state.last_assigned_seq for state in states.values()), default=0)
        rep.last_assigned_seq = top + 1
        rep.last_assigned_at = now
    return decision, rep


def _lead_country(lead: Lead) -> str | None:
    value = (lead.attributes or {}).get("country")
    return value if isinstance(value, str) and len(value) == 2 else None


# ---------------------------------------------------------------- sales' verdict


def get_handoff(session: Session, handoff_id: int, *, lock: bool = False) -> Handoff:
    """The handoff, or ``HandoffError('not_found', status=404)``."""
    query = select(Handoff).where(Handoff.id == handoff_id)
    if lock and not is_sqlite(session.get_bind().engine):
        query = query.with_for_update()
    handoff = session.scalar(query)
    if handoff is None:
        raise HandoffError("not_found", f"no handoff {handoff_id}", status=404)
    return handoff


def find_rep(session: Session, ref: str | int | None) -> SalesRep | None:
    """A rep by id or email; None for None; ``HandoffError('unknown_rep')`` when unknown."""
    if ref is None or ref == "":
        return None
    text = str(ref).strip()
    rep = (
        session.get(SalesRep, int(text))
        if text.isdigit()
        else session.scalar(select(SalesRep).where(SalesRep.email == text.lower()))
    )
    if rep is None:
        raise HandoffError(
            "unknown_rep", f"no sales rep {text!r} (see nurture team list)", status=422
        )
    return rep


def _closed_error(session: Session, handoff: Handoff, doing: str) -> HandoffError | None:
    """Why a decided handoff cannot be ``doing``, or None while it is offered."""
    if handoff.status == "reassigned":
        newer = session.scalar(select(Handoff).where(Handoff.previous_id == handoff.id))
        owner = session.get(SalesRep, newer.rep_id) if newer and newer.rep_id else None
        to = f" to {owner.name}" if owner else ""
        return HandoffError(
            "reassigned",
            f"cannot {doing}: this lead was reassigned{to} on {_day(handoff.decided_at)}",
        )
    if handoff.status == "rejected":
        return HandoffError(
            "already_rejected",
            f"cannot {doing}: the lead was already rejected ({handoff.reject_reason})",
        )
    if handoff.status == "converted" and doing in ("accept", "reject"):
        return HandoffError(
            "already_converted",
            f"cannot {doing}: the lead was already converted ({handoff.outcome})",
        )
    return None


def _check_owner(
    session: Session, handoff: Handoff, rep: SalesRep | None, doing: str
) -> SalesRep | None:
    """The rep acting: the owner, or (for an unowned handoff) the rep taking it."""
    if handoff.rep_id is None:
        if rep is None and doing == "accept":
            raise HandoffError(
                "owner_required", "this lead has no owner yet: say which rep accepts it", status=422
            )
        return rep
    owner = session.get(SalesRep, handoff.rep_id)
    if rep is not None and rep.id != handoff.rep_id:
        raise HandoffError(
            "not_owner",
            f"this lead is offered to {owner.name if owner else 'another rep'}, not {rep.name}; "
            "reassign it first (nurture handoffs assign)",
        )
    return owner


def accept(
    session: Session,
    handoff_id: int,
    *,
    rep: SalesRep | None = None,
    actor: str | None = None,
    now: datetime,
) -> Handoff:
    """The owner accepts the lead: stage ``sal``; the rep becomes the lead's and (if it has
    none) the account's owner. Refused (nothing changes) when already accepted, rejected,
    converted or reassigned, or when ``rep`` is not the owner."""
    handoff = get_handoff(session, handoff_id, lock=True)
    if handoff.status == "accepted":
        raise HandoffError(
            "already_accepted",
            f"the lead was already accepted on {_day(handoff.decided_at)} by {handoff.decided_by}",
        )
    error = _closed_error(session, handoff, "accept")
    if error is not None:
        raise error
    acting = _check_owner(session, handoff, rep, "accept")
    assert acting is not None
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None
    who = actor or f"user:{acting.email}"
    _move(session, lead, "sal", reason="accepted by sales", actor=who, now=now)
    if handoff.rep_id is None:
        handoff.rep_id = acting.id
        handoff.needs_owner = False
    handoff.status = "accepted"
    handoff.decided_at = now
    handoff.decided_by = acting.email
    lead.owner_id = acting.id
    account = session.get(Account, lead.account_id) if lead.account_id else None
    if account is not None:
        current = session.get(SalesRep, account.owner_id) if account.owner_id else None
        if current is None or not current.in_team:
            account.owner_id = acting.id
    record_action(session, handoff, "accepted", who, now, {"rep": acting.email})
    timeline_event(session, handoff, "handoff.accepted", now, rep=acting.email)
    return handoff


def reject(
    session: Session,
    handoff_id: int,
    *,
    reason: str,
    note: str | None = None,
    rep: SalesRep | None = None,
    actor: str | None = None,
    now: datetime,
) -> Handoff:
    """Sales gives the lead back with a configured reason (and an optional note): stage
    ``recycled`` (the recycle campaign enrols it) or, for reasons configured so,
    ``disqualified``. Allowed while offered or accepted (after the first call, say)."""
    team = active_team(session)
    reasons = team.reject_reasons if team else DEFAULT_REASONS
    chosen = _reason(reasons, reason)
    handoff = get_handoff(session, handoff_id, lock=True)
    error = _closed_error(session, handoff, "reject")
    if error is not None:
        raise error
    acting = _check_owner(session, handoff, rep, "reject")
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None
    who = actor or (f"user:{acting.email}" if acting else "system")
    note = (note or "").strip()[:2000] or None
    _move(
        session,
        lead,
        chosen.stage,
        reason=f"rejected by sales: {chosen.label}" + (f" ({note})" if note else ""),
        actor=who,
        now=now,
    )
    handoff.status = "rejected"
    handoff.open_lead_id = None
    handoff.decided_at = now
    handoff.decided_by = acting.email if acting else who
    handoff.reject_reason = chosen.id
    handoff.reject_note = note
    # Back with marketing: the next handoff is routed afresh (the account owner still
    # comes first there).
    lead.owner_id = None
    detail = {"reason": chosen.id, "label": chosen.label, "note": note, "stage": chosen.stage}
    record_action(session, handoff, "rejected", who, now, detail)
    timeline_event(session, handoff, "handoff.rejected", now, **detail)
    return handoff


def _reason(reasons: tuple[RejectReason, ...], wanted: str) -> RejectReason:
    found = next((r for r in reasons if r.id == (wanted or "").strip().lower()), None)
    if found is None:
        valid = ", ".join(r.id for r in reasons)
        raise HandoffError(
            "unknown_reason", f"unknown reject reason {wanted!r}: use one of {valid}", status=422
        )
    return found


def convert(
    session: Session,
    handoff_id: int,
    *,
    outcome: str,
    value: Any = None,
    currency: str | None = None,
    rep: SalesRep | None = None,
    actor: str | None = None,
    now: datetime,
) -> Handoff:
    """Record a sales outcome: ``sql``, ``opportunity``, ``won`` (stage customer) or
    ``lost`` (back to marketing as recycled), with the deal value. Outcomes only move
    forward; won and lost are final. Converting an offered handoff accepts it too."""
    outcome = (outcome or "").strip().lower()
    amount = _amount(value)
    handoff = get_handoff(session, handoff_id, lock=True)
    error = _closed_error(session, handoff, "convert")
    if error is not None:
        raise error
    problem = outcome_error(handoff.outcome, outcome)
    if problem is not None:
        raise HandoffError("bad_outcome", problem, status=422 if "unknown" in problem else 409)
    acting = _check_owner(session, handoff, rep, "convert")
    if acting is None:
        raise HandoffError(
            "owner_required", "this lead has no owner yet: say which rep converts it", status=422
        )
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None
    who = actor or f"user:{acting.email}"
    if handoff.status == "offered":
        _move(session, lead, "sal", reason="accepted by sales (converted)", actor=who, now=now)
        handoff.decided_at, handoff.decided_by = now, acting.email
        handoff.rep_id = acting.id
        lead.owner_id = acting.id
    target = OUTCOME_STAGES[outcome]
    if outcome == "lost":
        _move(session, lead, "recycled", reason="deal lost", actor=who, now=now)
        lead.owner_id = None
    else:
        for stage in stage_path(lead.stage, target):
            _move(session, lead, stage, reason=f"sales outcome {outcome}", actor=who, now=now)
    team = active_team(session)
    handoff.status = "converted"
    handoff.open_lead_id = None
    handoff.outcome = outcome
    handoff.outcome_at = now
    if amount is not None:
        handoff.deal_value = amount
        handoff.deal_currency = (currency or (team.currency if team else "USD")).upper()[:3]
    detail = {
        "outcome": outcome,
        "value": str(amount) if amount is not None else None,
        "currency": handoff.deal_currency if amount is not None else None,
        "final": outcome in FINAL_OUTCOMES,
    }
    record_action(session, handoff, "converted", who, now, detail)
    timeline_event(session, handoff, "handoff.converted", now, **detail)
    return handoff


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise HandoffError(
            "bad_value", f"deal value {value!r} is not a number", status=422
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise HandoffError(
            "bad_value", f"deal value {value!r} must be a positive amount", status=422
        )
    return amount.quantize(Decimal("0.01"))


def reassign(
    session: Session, handoff_id: int, *, to: SalesRep, reason: str, actor: str, now: datetime
) -> Handoff:
    """Give an open handoff to another rep: the old one becomes ``reassigned`` (its links
    stop working) and a new handoff, with the same qualification and a fresh snapshot, is
    offered to ``to``, who is notified. Returns the new handoff."""
    old = get_handoff(session, handoff_id, lock=True)
    if old.status not in OPEN_STATUSES:
        error = _closed_error(session, old, "reassign")
        raise error or HandoffError("closed", f"cannot reassign: the handoff is {old.status}")
    if old.rep_id == to.id:
        raise HandoffError("same_owner", f"{to.name} already owns this handoff")
    lead = session.get(Lead, old.lead_id)
    assert lead is not None
    old.status = "reassigned"
    old.open_lead_id = None
    old.decided_at = now
    old.decided_by = actor
    session.flush()
    team = active_team(session)
    assignment = {
        "method": "manual",
        "rule": None,
        "reason": reason or f"reassigned by {actor}",
        "needs_owner": False,
    }
    snapshot = build_snapshot(
        session,
        lead,
        rule=old.qualification_rule,
        reasons=old.qualification_reasons,
        hand_raiser=old.hand_raiser,
        team=team,
        owner=to,
        assignment=assignment,
        campaign=old.campaign,
        now=now,
    )
    snapshot["auto_reply"] = old.snapshot.get("auto_reply") if old.snapshot else None
    snapshot["link_expiry_days"] = (team.link_expiry if team else timedelta(days=14)).days
    new = Handoff(
        lead_id=old.lead_id,
        open_lead_id=old.lead_id,
        account_id=old.account_id,
        rep_id=to.id,
        status="offered",
        assignment_method="manual",
        assignment_rule=None,
        assignment_reason=assignment["reason"][:1000],
        needs_owner=False,
        qualification_rule=old.qualification_rule,
        qualification_reasons=old.qualification_reasons,
        hand_raiser=old.hand_raiser,
        fit_grade=old.fit_grade,
        fit_score=old.fit_score,
        score=old.score,
        temperature=old.temperature,
        campaign=old.campaign,
        source=old.source,
        snapshot=snapshot,
        token=secrets.token_urlsafe(16),
        previous_id=old.id,
        created_at=now,
    )
    session.add(new)
    session.flush()
    lead.owner_id = to.id
    record_action(
        session,
        old,
        "reassigned",
        actor,
        now,
        {"to": to.email, "handoff": new.id, "reason": reason},
    )
    record_action(
        session, new, "created", actor, now, {"reassigned_from": old.id, "reason": reason}
    )
    message = mail.queue(session, new, kind="handoff", to_address=to.email, now=now)
    new.notification_message_id = message.id
    record_action(session, new, "notified", "system", now, {"to": to.email, "as": "owner"})
    timeline_event(session, new, "handoff.reassigned", now, rep=to.email, previous=old.id)
    return new


def _move(
    session: Session, lead: Lead, stage: str, *, reason: str, actor: str, now: datetime
) -> None:
    if lead.stage == stage:
        return
    try:
        change_stage(session, lead, stage, reason=reason, actor=actor, now=now)
    except StageError as exc:
        raise HandoffError("stage", str(exc)) from exc


# ---------------------------------------------------------------- the audit trail


def record_action(
    session: Session,
    handoff: Handoff,
    action: str,
    actor: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> HandoffAction:
    """Add one entry to the handoff's own log (the SLA side adds reminded/escalated).

    Each entry also drives what follows it, in this transaction: the SLA clock and the
    outgoing webhooks (``hooks.handoff_action``, followed by ``nurture.handoff.events``)."""
    entry = HandoffAction(
        handoff_id=handoff.id, at=now, action=action, actor=actor[:320], detail=dict(detail or {})
    )
    session.add(entry)
    hooks.handoff_action.send(session, handoff=handoff, action=action, now=now, detail=entry.detail)
    return entry


def timeline_event(
    session: Session, handoff: Handoff, kind: str, now: datetime, **properties: Any
) -> Event:
    """A ``handoff.*`` event on the lead's timeline."""
    event = Event(
        lead_id=handoff.lead_id,
        type=kind,
        occurred_at=now,
        recorded_at=now,
        is_machine=False,
        machine_reasons=[],
        properties={
            "handoff_id": handoff.id,
            **{k: v for k, v in properties.items() if v is not None},
        },
    )
    session.add(event)
    return event


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an earlier date"


# ---------------------------------------------------------------- signed links


def handoff_for_link(session: Session, claim: Any, now: datetime) -> Handoff:
    """The handoff a verified link (``nurture.handoff.links.LinkClaim``) names, checked for
    expiry and ownership; ``HandoffError`` (invalid_link 404, expired 410, reassigned 409)
    otherwise. Reading only: the caller acts on the result."""
    if claim is None:
        raise HandoffError(
            "invalid_link", "this link is not valid (it was changed or cut short)", status=404
        )
    handoff = session.scalar(select(Handoff).where(Handoff.token == claim.token))
    if handoff is None:
        raise HandoffError("invalid_link", "this link does not name a handoff", status=404)
    if claim.expired(now):
        raise HandoffError(
            "expired",
            f"this link expired on {_day(claim.expires_at)}; use `nurture handoffs` or the API",
            status=410,
        )
    if handoff.status == "reassigned" or (
        claim.rep_id is not None and handoff.rep_id is not None and claim.rep_id != handoff.rep_id
    ):
        error = _closed_error(session, handoff, "act on this lead")
        raise error or HandoffError("reassigned", "this lead was reassigned to another rep")
    return handoff

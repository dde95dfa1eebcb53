"""Sales' verdict on a handoff: accept, reject with a reason, convert (sql, opportunity,
won, lost), or reassign to another rep. Each runs in the caller's transaction, moves the
lead's stage (``nurture.leads.lifecycle``) and writes the handoff's log; a reassignment's
notification is queued for the engine's next tick.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from nurture.handoff import mail
from nurture.handoff.context import build_snapshot
from nurture.handoff.lookup import closed_error, day_label, get_handoff
from nurture.handoff.model import (
    FINAL_OUTCOMES,
    OPEN_STATUSES,
    OUTCOME_STAGES,
    HandoffError,
    outcome_error,
    stage_path,
)
from nurture.handoff.team import RejectReason
from nurture.handoff.team_parser import DEFAULT_REASONS
from nurture.handoff.team_sync import active_team
from nurture.handoff.trail import record_action, timeline_event
from nurture.leads.lifecycle import StageError, change_stage
from nurture.models import Account, Handoff, Lead, SalesRep


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
            f"the lead was already accepted on {day_label(handoff.decided_at)} "
            f"by {handoff.decided_by}",
            day=handoff.decided_at,
        )
    error = closed_error(session, handoff, "accept")
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
    error = closed_error(session, handoff, "reject")
    if error is not None:
        raise error
    acting = _check_owner(session, handoff, rep, "reject")
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None
    who = actor or (f"user:{acting.email}" if acting else "system")
    # Nothing more is written down about a person who was erased (the verdict still counts).
    note = None if lead.erased_at is not None else (note or "").strip()[:2000] or None
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
    reason: str | None = None,
    rep: SalesRep | None = None,
    actor: str | None = None,
    now: datetime,
) -> Handoff:
    """Record a sales outcome: ``sql``, ``opportunity``, ``won`` (stage customer) or
    ``lost`` (back to marketing as recycled), with the deal value and, for a lost deal, why
    (``reason``, kept for the reports). Outcomes only move forward; won and lost are final.
    Converting an offered handoff accepts it too."""
    outcome = (outcome or "").strip().lower()
    amount = _amount(value)
    lost_reason = ((reason or "").strip()[:200] or None) if outcome == "lost" else None
    handoff = get_handoff(session, handoff_id, lock=True)
    error = closed_error(session, handoff, "convert")
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
    if lead.erased_at is not None:
        lost_reason = None  # nothing more is written down about an erased person
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
    if lost_reason is not None:
        handoff.lost_reason = lost_reason
    detail = {
        "outcome": outcome,
        "reason": lost_reason,
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
        error = closed_error(session, old, "reassign")
        raise error or HandoffError("closed", f"cannot reassign: the handoff is {old.status}")
    if old.rep_id == to.id:
        raise HandoffError("same_owner", f"{to.name} already owns this handoff")
    if not (to.active and to.in_team):
        # A lead given to someone who no longer works leads would wait for nobody.
        why = "is marked inactive" if to.in_team else "is no longer in the sales team file"
        raise HandoffError("rep_unavailable", f"cannot reassign to {to.name}: {why}", status=422)
    lead = session.get(Lead, old.lead_id)
    assert lead is not None
    old.status = "reassigned"
    old.open_lead_id = None
    old.decided_at = now
    old.decided_by = actor
    session.flush()
    team = active_team(session)
    assignment: dict[str, Any] = {
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
        readiness_version=old.readiness_version,
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

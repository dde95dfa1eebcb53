"""Handing a qualified lead to sales: it becomes an MQL, gets an owner by the team's
assignment rules, and a ``Handoff`` records who, why and the context. Runs in the caller's
transaction; the emails are queued as ``Message`` rows the engine sends at its next tick,
after the commit. Sales' verdict on the handoff is ``nurture.handoff.verdicts``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.consent.rules import may_answer
from nurture.handoff import mail
from nurture.handoff.context import build_snapshot, lead_campaign, lead_source, rep_view
from nurture.handoff.lookup import open_handoff
from nurture.handoff.model import HandoffError, QualificationLike
from nurture.handoff.reply_when import when_text
from nurture.handoff.reps import choose_owner
from nurture.handoff.team import Team
from nurture.handoff.team_fields import parse_working_hours
from nurture.handoff.team_sync import active_team
from nurture.handoff.trail import record_action, timeline_event
from nurture.leads.lifecycle import StageError, change_stage
from nurture.models import Handoff, Lead, SalesRep
from nurture.platform.db import is_sqlite
from nurture.platform.runtime import settings_of

log = logging.getLogger(__name__)

# A hand-raise this recent at qualification time counts as the qualifying signal.
HAND_RAISE_WINDOW = timedelta(hours=24)


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
    decision, owner = choose_owner(session, team, lead, now)
    lead.owner_id = owner.id if owner else None
    settings = settings_of(session)
    campaign = lead_campaign(session, lead.id)
    assignment = {
        "method": decision.method,
        "rule": decision.rule,
        "reason": decision.reason,
        "needs_owner": owner is None,
        # The facts behind the reason, which the notification words in its reader's language.
        "country": decision.country,
        "segment": decision.segment,
        "no_rule": decision.no_rule,
        "skipped_count": len(decision.skipped),
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
    default = settings.default_locale if settings else None
    snapshot["auto_reply"] = auto_reply_view(team, owner, now, lead.locale or default)
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
        readiness_version=_readiness_version(qualification),
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
    # A hand-raise held for marketing's review was answered when it arrived: sending it
    # to sales afterwards must not write to the person a second time.
    replies = getattr(qualification, "auto_reply", True) is not False
    if hand_raiser and replies and may_answer(lead):
        # The person asked to talk to us: the reply is expected even though the lead has
        # left nurture (it is transactional, not a campaign email).
        reply = mail.queue(session, handoff, kind="auto_reply", to_address=lead.email, now=now)
        handoff.auto_reply_message_id = reply.id
        record_action(session, handoff, "auto_replied", "system", now, {"to": "lead"})
    return handoff


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


def _readiness_version(qualification: QualificationLike) -> int | None:
    # The readiness evaluator's qualification names its file version; a hand-made one (a
    # test, a manual handoff) may not.
    version = getattr(qualification, "readiness_version", None)
    return version if isinstance(version, int) else None


def _manager_address(team: Team | None) -> str | None:
    return team.manager_email if team else None


def auto_reply_view(
    team: Team | None, owner: SalesRep | None, now: datetime, locale: str | None = None
) -> dict[str, Any]:
    """Who will call the hand-raiser, and when (from the owner's working hours), the "when"
    in the lead's language (``locale``; None: English)."""
    contact = team.contact if team else None
    view: dict[str, Any] = {
        "rep": rep_view(owner, now, locale),
        "contact": {"name": contact.name, "email": contact.email, "phone": contact.phone}
        if contact
        else None,
        "when": when_text(now, None, "", locale),
    }
    if owner is not None:
        try:
            hours = parse_working_hours(owner.working_hours)
            zone = ZoneInfo(owner.timezone)
        except (ValueError, KeyError):
            return view
        view["when"] = when_text(now, hours.next_open(now, zone), owner.timezone, locale)
    return view

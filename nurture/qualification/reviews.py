"""Marketing's review queue of hand-raisers: listing it, resolving an item (send the lead
to sales anyway, or dismiss it with a reason and keep nurturing), counting what became of
hand-raisers, and what the review notification and the auto-reply render.

The web page (``/sales/reviews``), ``nurture handoffs reviews|review`` and the API
(``/api/v1/handoffs/reviews``) call these; each resolution runs in the caller's
transaction and raises ``HandoffError`` before changing anything.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from nurture.handoff import Qualification as HandoffQualification
from nurture.handoff import hand_off
from nurture.handoff.model import HandoffError
from nurture.models import HandRaise, Lead, Message
from nurture.platform.config import Settings
from nurture.platform.db import is_sqlite
from nurture.qualification.hand_raise_rules import REVIEW_STATUSES, fit_text
from nurture.qualification.readiness import reasons_as_of
from nurture.qualification.versions import active_readiness
from nurture.sending import kinds

# The handoff rule (and stage-change actor) of a reviewed hand-raiser sent to sales.
REVIEW_RULE = "marketing-review"
NOTE_LENGTH = 500


@dataclass(frozen=True)
class ReviewPage:
    """One page of the queue, newest first, and the keyset of the next page."""

    rows: list[tuple[HandRaise, Lead]]
    next_after: str | None


def encode_after(row: HandRaise) -> str:
    """The keyset cursor after ``row`` (its time and id, URL-safe)."""
    text = f"{row.created_at.isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_after(text: str | None) -> tuple[datetime, int] | None:
    """A cursor of ``encode_after`` back as (time, id); None when absent or garbled."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, _, ident = raw.partition("|")
        return datetime.fromisoformat(moment), int(ident)
    except (ValueError, UnicodeDecodeError):
        return None


def check_status(status: str | None) -> str | None:
    """``status`` when it is a review status (or None for all), else HandoffError."""
    if status is not None and status not in REVIEW_STATUSES:
        raise HandoffError(
            "bad_status", f"unknown review status {status!r}: use {', '.join(REVIEW_STATUSES)}"
        )
    return status


def list_reviews(
    session: Session,
    *,
    status: str | None = "open",
    limit: int = 50,
    after: tuple[datetime, int] | None = None,
) -> ReviewPage:
    """Hand-raises held for review (of ``status``; None: every status), newest first."""
    query = (
        select(HandRaise, Lead)
        .join(Lead, Lead.id == HandRaise.lead_id)
        .order_by(HandRaise.created_at.desc(), HandRaise.id.desc())
        .limit(limit + 1)
    )
    if status is None:
        query = query.where(HandRaise.review_status.is_not(None))
    else:
        query = query.where(HandRaise.review_status == check_status(status))
    if after is not None:
        moment, ident = after
        query = query.where(
            or_(
                HandRaise.created_at < moment,
                and_(HandRaise.created_at == moment, HandRaise.id < ident),
            )
        )
    rows = [(row, lead) for row, lead in session.execute(query).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return ReviewPage(rows, encode_after(rows[-1][0]) if more and rows else None)


def get_review(session: Session, review_id: int, *, lock: bool = False) -> HandRaise:
    """The review item ``review_id`` (HandoffError ``not_found`` otherwise)."""
    query = select(HandRaise).where(HandRaise.id == review_id, HandRaise.review_status.is_not(None))
    if lock and not is_sqlite(session.get_bind().engine):
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise HandoffError("not_found", f"there is no hand-raise review {review_id}", status=404)
    return row


def _open(session: Session, review_id: int) -> HandRaise:
    row = get_review(session, review_id, lock=True)
    if row.review_status != "open":
        raise HandoffError(
            "already_resolved",
            f"review {review_id} was already resolved ({row.review_status} by "
            f"{row.resolved_by or 'someone'})",
        )
    return row


def send_to_sales(
    session: Session, review_id: int, *, actor: str, now: datetime, note: str | None = None
) -> HandRaise:
    """Marketing sends the reviewed hand-raiser to sales: handed off like a ready lead,
    with the fit and the review's reasons shown, and no second auto-reply."""
    row = _open(session, review_id)
    lead = session.get(Lead, row.lead_id)
    if lead is None or lead.erased_at is not None:
        raise HandoffError("not_found", f"the lead of review {review_id} was erased", status=404)
    text = _note(note, required=False)
    active = active_readiness(session)
    reasons = [*reasons_as_of(row.reasons or (), row.raised_at, now)]
    reasons.append(f"sent to sales after marketing's review by {actor.removeprefix('user:')}")
    if text:
        reasons.append(f"marketing's note: {text}")
    qualification = HandoffQualification(
        REVIEW_RULE,
        tuple(reasons),
        hand_raiser=True,
        readiness_version=active.number if active else None,
        auto_reply=False,
    )
    handoff = hand_off(session, lead, qualification, now)
    row.handoff_id = handoff.id
    _resolve(row, "sent", actor, now, text)
    return row


def dismiss(
    session: Session, review_id: int, *, actor: str, reason: str | None, now: datetime
) -> HandRaise:
    """Marketing keeps the hand-raiser in nurture, and says why (the reason is required)."""
    row = _open(session, review_id)
    _resolve(row, "dismissed", actor, now, _note(reason, required=True))
    return row


def _note(text: str | None, *, required: bool) -> str | None:
    cleaned = (text or "").strip()
    if required and not cleaned:
        raise HandoffError(
            "reason_required", "say why the hand-raiser stays in nurture", status=422
        )
    if len(cleaned) > NOTE_LENGTH:
        raise HandoffError(
            "reason_too_long", f"the reason is longer than {NOTE_LENGTH} characters", status=422
        )
    return cleaned or None


def _resolve(row: HandRaise, status: str, actor: str, now: datetime, note: str | None) -> None:
    row.review_status = status
    row.resolved_at = now
    row.resolved_by = actor[:320]
    row.resolution_note = note


def review_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """What became of hand-raises (created since ``since``): in review, sent to sales after
    review, dismissed, handed off by the outside-ICP setting, handed off by readiness."""
    query = select(HandRaise.route, HandRaise.review_status, func.count()).group_by(
        HandRaise.route, HandRaise.review_status
    )
    if since is not None:
        query = query.where(HandRaise.created_at >= since)
    counts = {"in_review": 0, "sent": 0, "dismissed": 0, "outside_icp_to_sales": 0}
    counts["handed_off"] = counts["with_sales"] = 0
    for route, status, number in session.execute(query).all():
        if status == "open":
            counts["in_review"] += number
        elif status in ("sent", "dismissed"):
            counts[status] += number
        elif route == "sales":
            counts["outside_icp_to_sales"] += number
        elif route in ("handoff", "with_sales"):
            counts["handed_off" if route == "handoff" else "with_sales"] += number
    return counts


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def review_json(row: HandRaise, lead: Lead, now: datetime) -> dict[str, Any]:
    """The API representation of a review item."""
    erased = lead.erased_at is not None
    return {
        "id": row.id,
        "status": row.review_status,
        "lead": {
            "id": lead.id,
            "email": lead.email,
            "name": lead.full_name,
            "stage": lead.stage,
        },
        "hand_raise": {"event_type": row.event_type, "raised_at": _iso(row.raised_at)},
        "fit_grade": row.fit_grade,
        "fit_score": row.fit_score,
        "rule": row.rule,
        "reasons": [] if erased else reasons_as_of(row.reasons or (), row.raised_at, now),
        "auto_replied": row.auto_reply_message_id is not None,
        "reviewers": list(row.reviewers or ()),
        "created_at": _iso(row.created_at),
        "resolved_at": _iso(row.resolved_at),
        "resolved_by": row.resolved_by,
        "note": None if erased else row.resolution_note,
        "handoff_id": row.handoff_id,
    }


def review_view(row: HandRaise, lead: Lead, public_url: str, now: datetime) -> dict[str, Any]:
    """What the review notification shows: who, what they asked for, the fit and why the
    lead is held, and the link to resolve it."""
    account = lead.account
    return {
        "id": row.id,
        "url": f"{public_url}/sales/reviews/{row.id}",
        "lead": {
            "name": lead.full_name,
            "first_name": lead.first_name,
            "email": lead.email,
            "title": lead.title,
            "company": (account.name or account.domain) if account else None,
        },
        "event_type": row.event_type or "hand-raise",
        "raised_at": f"{row.raised_at:%Y-%m-%d %H:%M} UTC",
        "fit": fit_text(row.fit_grade, row.fit_score),
        "reasons": reasons_as_of(row.reasons or (), row.raised_at, now),
        "fit_reasons": [r.get("text", "") for r in lead.fit_reasons or ()],
        "auto_replied": row.auto_reply_message_id is not None,
    }


def template_extras(
    session: Session, messages: Sequence[Message], settings: Settings, now: datetime
) -> dict[int, dict[str, Any]]:
    """The ``reply`` of the hand-raise auto-replies and the ``review`` of the review
    notifications among ``messages`` (registered with ``nurture.sending.kinds``; ``now``,
    the moment of rendering, is not needed: both show stored text)."""
    extras: dict[int, dict[str, Any]] = {}
    replies = [m.id for m in messages if m.kind == kinds.HAND_RAISE_REPLY.name]
    if replies:
        for row in session.scalars(
            select(HandRaise).where(HandRaise.auto_reply_message_id.in_(replies))
        ):
            assert row.auto_reply_message_id is not None
            extras[row.auto_reply_message_id] = {"reply": dict(row.reply or {})}
    notes = [m for m in messages if m.kind == kinds.HAND_RAISE_REVIEW.name]
    if notes:
        rows = session.execute(
            select(HandRaise, Lead)
            .join(Lead, Lead.id == HandRaise.lead_id)
            .where(
                HandRaise.lead_id.in_(sorted({m.lead_id for m in notes if m.lead_id})),
                HandRaise.review_status.is_not(None),
            )
            .order_by(HandRaise.created_at, HandRaise.id)
        ).all()
        for message in notes:
            # The notification is about the lead's newest review made before it was queued
            # (a lead has one answered hand-raise at a time, so that is the one it named).
            mine = [
                (row, lead)
                for row, lead in rows
                if row.lead_id == message.lead_id and row.created_at <= message.queued_at
            ]
            if mine:
                row, lead = mine[-1]
                extras[message.id] = {
                    "review": review_view(row, lead, settings.public_url, message.queued_at)
                }
    return extras


def sample_review(*, sparse: bool = False) -> dict[str, Any]:
    """The ``review`` variable of a review notification, for template validation."""
    if sparse:
        return {
            "id": 2,
            "url": "https://nurture.example/sales/reviews/2",
            "lead": {
                "name": "someone@example.org",
                "first_name": None,
                "email": "someone@example.org",
                "title": None,
                "company": None,
            },
            "event_type": "hand-raise",
            "raised_at": "2026-12-01 09:58 UTC",
            "fit": "not graded yet",
            "reasons": [],
            "fit_reasons": [],
            "auto_replied": False,
        }
    return {
        "id": 1,
        "url": "https://nurture.example/sales/reviews/1",
        "lead": {
            "name": "Olek Nowak",
            "first_name": "Olek",
            "email": "olek@kwiatki.example",
            "title": "Owner",
            "company": "Kwiatki",
        },
        "event_type": "demo.requested",
        "raised_at": "2026-12-01 09:58 UTC",
        "fit": "fit grade D (12)",
        "reasons": [
            "raised a hand: demo.requested 7 min ago",
            "fit grade D (12) is below C, the fit bar of rule 'hand-raiser': outside the ICP",
        ],
        "fit_reasons": ["Employees 4 (< 50) (+0)"],
        "auto_replied": True,
    }

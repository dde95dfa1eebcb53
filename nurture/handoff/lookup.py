"""Finding a handoff: by id, a lead's open one, the one a signed link names; and why a
handoff that was already decided cannot be acted on again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.handoff.model import HandoffError
from nurture.models import Handoff, SalesRep
from nurture.platform.db import is_sqlite


def get_handoff(session: Session, handoff_id: int, *, lock: bool = False) -> Handoff:
    """The handoff, or ``HandoffError('not_found', status=404)``."""
    query = select(Handoff).where(Handoff.id == handoff_id)
    if lock and not is_sqlite(session.get_bind().engine):
        query = query.with_for_update()
    handoff = session.scalar(query)
    if handoff is None:
        raise HandoffError("not_found", f"no handoff {handoff_id}", status=404)
    return handoff


def open_handoff(session: Session, lead_id: int) -> Handoff | None:
    """The lead's open handoff (offered or accepted), if any."""
    return session.scalar(select(Handoff).where(Handoff.open_lead_id == lead_id))


def closed_error(session: Session, handoff: Handoff, doing: str) -> HandoffError | None:
    """Why a decided handoff cannot be ``doing``, or None while it is offered."""
    if handoff.status == "reassigned":
        newer = session.scalar(select(Handoff).where(Handoff.previous_id == handoff.id))
        owner = session.get(SalesRep, newer.rep_id) if newer and newer.rep_id else None
        to = f" to {owner.name}" if owner else ""
        return HandoffError(
            "reassigned",
            f"cannot {doing}: this lead was reassigned{to} on {day_label(handoff.decided_at)}",
            name=owner.name if owner else None,
            day=handoff.decided_at,
        )
    if handoff.status == "rejected":
        return HandoffError(
            "already_rejected",
            f"cannot {doing}: the lead was already rejected ({handoff.reject_reason})",
            day=handoff.decided_at,
        )
    if handoff.status == "converted" and doing in ("accept", "reject"):
        return HandoffError(
            "already_converted",
            f"cannot {doing}: the lead was already converted ({handoff.outcome})",
            day=handoff.decided_at,
        )
    return None


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
            f"this link expired on {day_label(claim.expires_at)}; "
            "use `nurture handoffs` or the API",
            status=410,
            day=claim.expires_at,
        )
    if handoff.status == "reassigned" or (
        claim.rep_id is not None and handoff.rep_id is not None and claim.rep_id != handoff.rep_id
    ):
        error = closed_error(session, handoff, "act on this lead")
        raise error or HandoffError("reassigned", "this lead was reassigned to another rep")
    return handoff


def day_label(moment: datetime | None) -> str:
    """A decision's or expiry's time as messages show it."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an earlier date"

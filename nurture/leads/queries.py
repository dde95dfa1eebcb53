"""Reading leads: one by id or address, and pages of them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from nurture.models import Lead
from nurture.platform.addresses import normalise_email
from nurture.platform.ids import parse_id


def get_lead(session: Session, ref: str) -> Lead | None:
    """The lead with id ``ref`` (all digits) or email ``ref`` (any spelling), or None."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        # All digits: an id, or nothing when no row can have it (0, 2^63 and above).
        lead_id = parse_id(ref)
        return (
            None
            if lead_id is None
            else session.get(Lead, lead_id, options=[selectinload(Lead.account)])
        )
    try:
        email = normalise_email(ref)
    except ValueError:
        return None
    return session.scalars(
        select(Lead).where(Lead.email == email).options(selectinload(Lead.account))
    ).one_or_none()


def list_leads(
    session: Session, *, stage: str | None = None, limit: int = 50, after_id: int | None = None
) -> list[Lead]:
    """Leads in id order (keyset pagination: pass the last id seen as ``after_id``)."""
    query = select(Lead).options(selectinload(Lead.account)).order_by(Lead.id).limit(limit)
    if stage is not None:
        query = query.where(Lead.stage == stage)
    if after_id is not None:
        query = query.where(Lead.id > after_id)
    return list(session.scalars(query))

"""Suppression list and audit log: who must never be mailed, and every consent change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class Suppression(Base):
    """An address that must not receive campaign email, kept only as a peppered hash.

    The address itself is never stored here, so the list survives an erasure: a later
    import of the same address finds the hash and creates the lead suppressed.
    """

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC-SHA256 of the normalised address with the instance pepper (hex).
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # unsubscribed | hard_bounce | complaint | erased | manual
    reason: Mapped[str] = mapped_column(String(20))
    # Where it came from: "one-click", "preference-centre", "mailto", "bounce", "cli", ...
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """One consent or suppression change: what, to whom (id and hash), by whom, when.

    ``lead_id`` is a plain number, not a foreign key, so the trail outlives any row it
    names; ``detail`` never holds an address or an IP.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_lead_id_at", "lead_id", "at"),
        # The audit log viewer: newest first, filtered by who, by what or by date (keyset
        # over (at, id), so a page is an index range scan however long the log grows).
        Index("ix_audit_log_at_id", "at", "id"),
        Index("ix_audit_log_actor_at_id", "actor", "at", "id"),
        Index("ix_audit_log_action_at_id", "action", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # e.g. consent.granted, consent.pending, consent.confirmed, suppression.added,
    # suppression.lifted, preferences.changed, lead.exported, lead.erased, and
    # app.<blueprint>.<view> for a change made through a page of the web app
    action: Mapped[str] = mapped_column(String(80), index=True)
    lead_id: Mapped[int | None]
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Who made the change: "lead" (the person, via a link), "api", "cli", "system", ...
    actor: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

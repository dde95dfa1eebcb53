"""The event timeline: everything that happened to or was done by a lead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class Event(Base):
    """One thing that happened: an email sent/opened/clicked, a page view, a form, a stage
    change. Machine hits are kept and flagged, never dropped."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_lead_id_occurred_at", "lead_id", "occurred_at"),
        # Reports of a period by kind (the home page's sent, opened, clicked …): only the
        # rows of those types in that period are read, not every row of the type.
        Index("ix_events_type_occurred_at", "type", "occurred_at"),
        # A lead's human events of the scored types, by id: a rescore reads the events
        # added since its last one, and checks the count and id sum of the rest, from this
        # index alone (nurture.scoring.incremental) instead of the lead's whole history.
        Index("ix_events_lead_id_scored", "lead_id", "is_machine", "type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    # First-party visitor id for web activity not yet tied to a lead.
    anonymous_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # Dotted type, e.g. email.sent, email.opened, email.clicked, page.viewed, form.submitted
    # (the full list: nurture/platform/event_types.py).
    type: Mapped[str] = mapped_column(String(60), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    step_key: Mapped[str | None] = mapped_column(String(201))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_machine: Mapped[bool] = mapped_column(default=False)
    machine_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

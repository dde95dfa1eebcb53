"""Hand-raises and how each was answered: handed to sales, or held for marketing's review,
with the auto-reply the person got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class HandRaise(Base):
    """One hand-raise: a ``lead.hand_raised`` event on the lead's timeline (a demo request,
    a trial, a contact-sales form the scoring model flags), and what was done about it.

    ``event_id`` is unique, so a hand-raise is answered once however often the lead is
    evaluated again (a worker restarted, a rescore of every lead): one auto-reply, one
    review. ``route`` says what happened: ``handoff`` (a readiness rule handed the lead to
    sales), ``sales`` (outside the ICP, handed to sales by the readiness file's setting),
    ``review`` (held for marketing: ``review_status`` open → sent or dismissed),
    ``with_sales`` (the lead already belonged to sales), ``stale`` (raised too long ago to
    answer) or ``earlier`` (recorded before hand-raises were answered one by one).
    """

    __tablename__ = "hand_raises"
    __table_args__ = (
        # The review queue, newest first, one status at a time.
        Index("ix_hand_raises_review_status_created_at", "review_status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    # The ``lead.hand_raised`` event (not a foreign key: a retention purge of old events
    # must not take the record of how the person was answered with it).
    event_id: Mapped[int] = mapped_column(unique=True)
    # The event that raised the hand (demo.requested, trial.started, …) and when.
    event_type: Mapped[str | None] = mapped_column(String(60))
    raised_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    route: Mapped[str] = mapped_column(String(20))
    # Why this route, in words (the fit below the bar, the readiness rule that matched…).
    reasons: Mapped[list[str] | None] = mapped_column(JSON)
    # The readiness rule that handed the lead off, or the hand-raise rule it missed.
    rule: Mapped[str | None] = mapped_column(String(100))
    fit_grade: Mapped[str | None] = mapped_column(String(2))
    fit_score: Mapped[float | None] = mapped_column(Float)
    auto_reply_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    # What the auto-reply says about who will answer (the template's ``reply``).
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    handoff_id: Mapped[int | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="SET NULL"), index=True
    )
    # open | sent | dismissed; null when the hand-raise was never held for review.
    review_status: Mapped[str | None] = mapped_column(String(10))
    # The marketing reviewers' addresses the review notification went to.
    reviewers: Mapped[list[str] | None] = mapped_column(JSON)
    resolved_at: Mapped[datetime | None]
    # user:<email>, user:api:<key name>, user:cli
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    # Why marketing dismissed it (or a note on sending it to sales).
    resolution_note: Mapped[str | None] = mapped_column(String(500))

"""Outgoing webhook deliveries: one row per (event, endpoint), its attempts and outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow

# A delivery's states (``WebhookDelivery.status``), in the order a delivery goes through them.
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookDelivery(Base):
    """One handoff event to be POSTed to one endpoint, and what happened.

    Written in the same transaction as the handoff action it reports (so an event is never
    lost nor announced for a change that rolled back) and sent afterwards by the worker.
    ``body`` is the exact JSON sent at every attempt; the ``event_id`` inside it lets a
    receiver drop duplicates. ``status``: pending (waiting for its first or next attempt),
    delivered (2xx), failed (a permanent 4xx, or out of attempts).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        # The delivery log filtered by status, newest first (keyset over id).
        Index("ix_webhook_deliveries_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    handoff_id: Mapped[int | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    response_code: Mapped[int | None]
    # The first 500 characters of the receiver's answer, or the network error.
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The SLA of a handoff: its deadline, reminder, escalation and compliance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base


class HandoffSla(Base):
    """One handoff's service-level clock (``nurture.handoff.sla``).

    Started with the handoff; ``due_at`` counts the policy's working time in the owner's
    hours and timezone (recorded here, as used). ``status``: pending → met (accepted or
    rejected by the deadline) or breached (not by then: escalated); void when the handoff
    was reassigned by hand before its deadline. The worker looks at pending rows whose
    ``remind_at`` or ``due_at`` has come (both indexed).
    """

    __tablename__ = "handoff_slas"
    __table_args__ = (
        Index("ix_handoff_slas_status_due_at", "status", "due_at"),
        Index("ix_handoff_slas_status_remind_at", "status", "remind_at"),
    )

    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), primary_key=True
    )
    # "1 business hour", as the policy read when the clock started.
    policy: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    working_hours: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    breached_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # What the escalation did: {"manager": "a@b", "reassigned_to": "c@d", "handoff": 7, ...}
    escalation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    responded_at: Mapped[datetime | None]
    # accepted | rejected | converted | reassigned
    response: Mapped[str | None] = mapped_column(String(20))
    response_seconds: Mapped[float | None] = mapped_column(Float)
    response_business_seconds: Mapped[float | None] = mapped_column(Float)
    reminder_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    escalation_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )

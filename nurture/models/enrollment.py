"""Enrolments: one lead's pass through one campaign."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class Enrollment(Base):
    """Where a lead stands in a campaign, and when it is next due.

    ``next_due_at`` is the schedule: workers claim rows whose time has come. It is null for
    finished enrolments, so the index holds only live work.
    """

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("lead_id", "campaign_id", "entry_number"),
        # A campaign's enrolments by state and position (how many are where, from the
        # index alone), newest first (the enrolments page's keyset), and those that
        # finished in a period (exits per step).
        Index("ix_enrollments_campaign_status_position", "campaign_id", "status", "track", "step"),
        Index("ix_enrollments_campaign_enrolled_at", "campaign_id", "enrolled_at", "id"),
        Index("ix_enrollments_campaign_finished_at", "campaign_id", "finished_at"),
        # The leads with an enrolment of a campaign in a status (the lead list's campaign
        # filter), from the index alone.
        Index("ix_enrollments_campaign_status_lead", "campaign_id", "status", "lead_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # 1 for the first entry, 2 after a re-entry, and so on.
    entry_number: Mapped[int] = mapped_column(default=1)
    # active | completed | exited | paused
    status: Mapped[str] = mapped_column(String(20), default="active")
    version_id: Mapped[int] = mapped_column(ForeignKey("campaign_versions.id"))
    track: Mapped[str] = mapped_column(String(100))
    # The step that runs when the enrolment is next due; null before the first step.
    step: Mapped[str | None] = mapped_column(String(100))
    # When a wait step started, so a re-timed wait can be recomputed after an edit.
    step_started_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(200))


class EnrollmentHistory(Base):
    """What happened to an enrolment, step by step (sent, waited, branched, switched, exited)."""

    __tablename__ = "enrollment_history"
    # The steps enrolments reached in a period (a campaign's step figures).
    __table_args__ = (Index("ix_enrollment_history_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    track: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

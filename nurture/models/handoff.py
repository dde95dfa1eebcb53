"""The sales team (synced from the team file) and handoffs: a lead given to a rep, with
everything that happened to it afterwards."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.file_version import FileVersionColumns
from nurture.platform.db import Base, utcnow


class SalesTeamVersion(FileVersionColumns, Base):
    """One validated revision of the sales team file (``NURTURE_SALES_TEAM_FILE``).

    Exactly one is active. Reps, segments, assignment rules and reject reasons are read
    from the active version's ``spec``; the ``sales_reps`` rows mirror its reps so handoffs
    can point at them and the rotation can be kept in the database.
    """

    __tablename__ = "sales_team_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    checksum: Mapped[str] = mapped_column(String(64), unique=True)


class SalesRep(Base):
    """A salesperson. Rows are never deleted: a rep removed from the file becomes
    ``in_team = False`` (and unavailable), so old handoffs keep their owner."""

    __tablename__ = "sales_reps"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased; the rep's identity across team file versions.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # As written in the file, e.g. "mon-fri 09:00-17:30" (nurture.handoff.hours parses it).
    working_hours: Mapped[str] = mapped_column(String(100))
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)
    segments: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Most open handoffs (offered or accepted, no outcome yet) at once; null: no limit.
    capacity: Mapped[int | None]
    # Unavailable up to and including this day (in the rep's timezone).
    out_of_office_until: Mapped[date | None]
    manager_email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)
    # False once the rep is no longer in the active team file.
    in_team: Mapped[bool] = mapped_column(default=True)
    # Round-robin: the rotation number of the rep's latest assignment (0: never). The rep
    # with the lowest number among the eligible ones gets the next lead.
    last_assigned_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Handoff(Base):
    """A lead handed to sales: who got it and why, the snapshot sales saw, sales' verdict.

    ``status``: offered → accepted → converted, or rejected, or reassigned (a newer handoff
    of the same lead replaced this one). ``open_lead_id`` equals ``lead_id`` while the
    handoff is open (offered or accepted) and is null afterwards; its unique key makes a
    second open handoff of one lead impossible to record, on every backend.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status_created_at", "status", "created_at"),
        Index("ix_handoffs_rep_id_status", "rep_id", "status"),
        # A rep's inbox, newest first (keyset over created_at, id).
        Index("ix_handoffs_rep_id_created_at", "rep_id", "created_at"),
        # The manager's rejections of a period, newest decision first.
        Index("ix_handoffs_status_decided_at", "status", "decided_at"),
        # An account's handoffs (its page, the account list's "open handoff" filter).
        Index("ix_handoffs_account_id_open_lead_id", "account_id", "open_lead_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    open_lead_id: Mapped[int | None] = mapped_column(unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("sales_reps.id", ondelete="SET NULL"))
    # offered | accepted | rejected | converted | reassigned
    status: Mapped[str] = mapped_column(String(20), default="offered")
    # How the owner was chosen: account_owner | rule | round_robin | manual | unassigned.
    assignment_method: Mapped[str] = mapped_column(String(20))
    assignment_rule: Mapped[str | None] = mapped_column(String(100))
    assignment_reason: Mapped[str] = mapped_column(String(1000))
    # Nobody could take it (all out of office / at capacity): the team manager was told.
    needs_owner: Mapped[bool] = mapped_column(default=False)

    qualification_rule: Mapped[str] = mapped_column(String(100))
    # The number of the readiness file's version whose rule fired (null: handed off before
    # it was recorded, or by a caller without one), for the feedback report's rule versions.
    readiness_version: Mapped[int | None]
    qualification_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    hand_raiser: Mapped[bool] = mapped_column(default=False)
    # Fit and engagement when it was handed off (what sales was told).
    fit_grade: Mapped[str | None] = mapped_column(String(2))
    fit_score: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    temperature: Mapped[str | None] = mapped_column(String(10))
    # Where the lead came from, for the reasons report: its campaign key and source.
    campaign: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(200))
    # The notification's content as rendered for the owner (JSON-ready), kept as evidence.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # Random; the signed accept/reject links name the handoff by it.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    notification_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    auto_reply_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="SET NULL"))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When sales accepted or rejected it (or it was reassigned).
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(320))
    reject_reason: Mapped[str | None] = mapped_column(String(50), index=True)
    reject_note: Mapped[str | None] = mapped_column(String(2000))
    # sql | opportunity | won | lost, with the deal value for ROI reports.
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_at: Mapped[datetime | None]
    deal_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    deal_currency: Mapped[str | None] = mapped_column(String(3))
    # Why a deal was lost, in the rep's words (the outcome ``lost`` only).
    lost_reason: Mapped[str | None] = mapped_column(String(200))


class HandoffAction(Base):
    """The handoff's own log: created, notified, accepted, rejected, converted, reassigned
    (and, for the SLA, reminded / escalated), with who did it and the details."""

    __tablename__ = "handoff_actions"
    __table_args__ = (Index("ix_handoff_actions_handoff_id_at", "handoff_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    # user:<email>, rule:<name>, api:<key name>, system
    actor: Mapped[str] = mapped_column(String(320))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

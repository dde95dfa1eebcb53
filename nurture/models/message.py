"""Messages: one row per email, and the local outbox that stores them without SMTP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow

# What a person did with an email (see ``Message.opened_at``).
ENGAGEMENT_COLUMNS = (
    "opened_at",
    "clicked_at",
    "unsubscribed_at",
    "bounce_reported_at",
    "complained_at",
)
# What machines did with it and how often a person clicked (see ``Message.machine_opened_at``).
HIT_COLUMNS = ("machine_opened_at", "machine_clicked_at", "human_clicks")
# What the index of the messages by send time carries besides the time.
SENT_AT_INCLUDE = (
    "kind",
    "campaign_id",
    "campaign_version_id",
    "lead_id",
    "enrollment_id",
    "step_key",
    "template",
    "bounce_decision",
    *ENGAGEMENT_COLUMNS,
    *HIT_COLUMNS,
)


class Message(Base):
    """An email to one lead. The unique key on (enrolment, step) makes a double send
    impossible to record, whatever the number of workers."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step_key"),
        Index("ix_messages_lead_id_queued_at", "lead_id", "queued_at"),
        # Volume over time: the warm-up and domain-throttle counts, and send reports.
        Index("ix_messages_queued_at", "queued_at"),
        # A campaign's emails sent in a period (the campaign and step figures) and every
        # email sent in a period (the home page's): on PostgreSQL each carries what its
        # figures count, so they are read from the index alone.
        Index(
            "ix_messages_campaign_id_sent_at",
            "campaign_id",
            "sent_at",
            postgresql_include=["step_key", *ENGAGEMENT_COLUMNS],
        ),
        # The period's emails for the campaign results too (nurture.analytics): with what
        # they count and group by, a year of them is read without touching the table.
        Index("ix_messages_sent_at", "sent_at", postgresql_include=list(SENT_AT_INCLUDE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    # The campaign version that sent it (the active one at the time: an enrolment on an
    # older version is moved onto the active one before it sends), for the version figures.
    campaign_version_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_versions.id"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE")
    )
    # "track/step" of the campaign step that sent it; null for messages outside campaigns.
    step_key: Mapped[str | None] = mapped_column(String(201))
    # Transactional kind for messages outside campaigns (e.g. "handoff"); "campaign" else.
    kind: Mapped[str] = mapped_column(String(30), default="campaign")
    template: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(500))
    to_address: Mapped[str] = mapped_column(String(320))
    # The RFC 5322 Message-ID, without angle brackets.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Random per-message token; tracking URLs carry it signed.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    # queued | sending | sent | deferred | failed
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    # When a deferred or claimed message may next be attempted.
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    smtp_code: Mapped[int | None]
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # A bounce or complaint received after the message was sent (status stays "sent":
    # the SMTP hand-off did succeed). bounce_decision: suppress, retry, complaint, ...
    bounced_at: Mapped[datetime | None]
    bounce_status: Mapped[str | None] = mapped_column(String(12))
    bounce_decision: Mapped[str | None] = mapped_column(String(20))
    # What a person did with it, from its events (machine hits left out), kept here so the
    # period figures read messages, not events (nurture.tracking.engagement): the first
    # human open or click, the first human click, and the first unsubscribe, bounce report
    # and complaint.
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    bounce_reported_at: Mapped[datetime | None]
    complained_at: Mapped[datetime | None]
    # The rest of the campaign results, kept the same way: the first open and the first
    # click flagged as a machine's (privacy proxies, link scanners), and the number of
    # human clicks.
    machine_opened_at: Mapped[datetime | None]
    machine_clicked_at: Mapped[datetime | None]
    human_clicks: Mapped[int] = mapped_column(server_default="0")


class OutboxMessage(Base):
    """The full bytes of a message delivered to the local outbox instead of an SMTP server."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)

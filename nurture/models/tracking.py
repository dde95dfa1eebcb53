"""Raw tracking hits and web visitors (the capture side of tracking).

A hit is written by the public endpoint in one small INSERT and nothing else, so the
recipient never waits on classification or scoring; ``nurture.tracking.processing`` turns hits into
``events`` rows later, in batches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow

# BIGINT on PostgreSQL (hits outnumber everything else by far); SQLite's rowid alias must be
# spelled INTEGER to autoincrement.
HitId = BigInteger().with_variant(Integer(), "sqlite")


class TrackingHit(Base):
    """One request to a tracking endpoint, kept as it arrived (IP per the privacy setting)."""

    __tablename__ = "tracking_hits"
    __table_args__ = (
        # The processor's claim: unprocessed hits in arrival order.
        Index("ix_tracking_hits_processed_id", "processed", "id"),
        # "Every link clicked within seconds" and the honeypot look at one message's hits.
        Index("ix_tracking_hits_token_occurred_at", "token", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(HitId, primary_key=True)
    # open | click | honeypot | page | form | api
    kind: Mapped[str] = mapped_column(String(10))
    # The message's random token (email hits); null for web and API hits.
    token: Mapped[str | None] = mapped_column(String(32))
    # First-party visitor id (web hits) or the id an API event named.
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    # Clicks: the link's position among the message's distinct links, and how many it had.
    link_index: Mapped[int | None]
    link_count: Mapped[int | None]
    # The destination (clicks) or the page (web hits).
    url: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(10), default="GET")
    user_agent: Mapped[str | None] = mapped_column(String(500))
    # Stored per NURTURE_IP_PRIVACY: truncated, hashed, full or not at all.
    ip: Mapped[str | None] = mapped_column(String(64))
    # The known network the full IP belonged to ("apple", "google", "microsoft-eop"),
    # worked out before the IP is truncated or hashed so the privacy setting does not
    # blind the machine rules.
    network: Mapped[str | None] = mapped_column(String(30))
    # A Purpose/Sec-Purpose/X-Moz prefetch header was present.
    prefetch: Mapped[bool] = mapped_column(default=False)
    # Web and API hits: title, referrer, identity param, form name, event type, properties.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    processed: Mapped[bool] = mapped_column(default=False)


class Visitor(Base):
    """A first-party visitor id (cookie on the marketer's site) and who it turned out to be.

    ``email`` holds an address the visitor gave that matches no lead yet; when that lead
    appears, the processor links the visitor and moves its anonymous history onto the lead.
    """

    __tablename__ = "tracking_visitors"

    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    identified_at: Mapped[datetime | None]

"""Bounce receipts: which bounce and complaint messages were already applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class BounceReceipt(Base):
    """One ingested bounce/complaint message. The unique fingerprint (the bounce's own
    Message-ID, or a hash of its bytes when it has none) makes a re-ingest a no-op."""

    __tablename__ = "bounce_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(300), unique=True)
    # dsn | arf | text | autoreply
    kind: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What was decided, per recipient (address, status, decision, reason): the operator's
    # record of sender-side problems lives here too.
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

"""Campaigns and their versions, loaded from files under campaigns/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.platform.db import Base, utcnow


class Campaign(Base):
    """A drip campaign. Its behaviour is the active version's spec."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The ``id:`` written in the campaign file; stable across edits.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str | None] = mapped_column(String(500))
    # active | paused (by a person: nothing of it is sent) | archived (its file is gone)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Who paused it and when, while it is paused (``nurture.campaigns.pausing``).
    paused_at: Mapped[datetime | None]
    paused_by: Mapped[str | None] = mapped_column(String(100))
    active_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_versions.id", use_alter=True)
    )
    # The last load that failed validation: the previous valid version stays active.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    active_version: Mapped[CampaignVersion | None] = relationship(
        foreign_keys=[active_version_id], post_update=True
    )


class CampaignVersion(Base):
    """One validated revision of a campaign file, kept so in-flight enrolments can be mapped."""

    __tablename__ = "campaign_versions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        UniqueConstraint("campaign_id", "checksum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    number: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

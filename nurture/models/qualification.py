"""Versions of the qualification files: the ICP (fit grading) and readiness (MQL) files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.db import Base, utcnow


class QualificationVersion(Base):
    """One validated revision of the ICP file (``kind`` "icp") or the readiness file
    (``kind`` "readiness"). One of each kind is active; a lead remembers the ICP version
    its grade was computed with, so an ICP change can regrade the rest."""

    __tablename__ = "qualification_versions"
    __table_args__ = (
        UniqueConstraint("kind", "number"),
        UniqueConstraint("kind", "checksum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]

"""Versions of the qualification files: the ICP (fit grading) and readiness (MQL) files."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.file_version import FileVersionColumns
from nurture.platform.db import Base


class QualificationVersion(FileVersionColumns, Base):
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

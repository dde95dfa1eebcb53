"""Scoring model versions, loaded from the scoring file (``NURTURE_SCORING_FILE``)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.file_version import FileVersionColumns
from nurture.platform.db import Base


class ScoringVersion(FileVersionColumns, Base):
    """One validated revision of the scoring file. Exactly one is active; a lead remembers
    the version its score was computed with, so a model change can rescore the rest."""

    __tablename__ = "scoring_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    checksum: Mapped[str] = mapped_column(String(64), unique=True)

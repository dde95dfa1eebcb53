"""Scoring model versions, loaded from the scoring file (``NURTURE_SCORING_FILE``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String
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


class LeadScoreState(Base):
    """What scoring needs to add a lead's next event to its score without reading the
    events before it (``nurture.scoring.state``): the running score at its last award,
    the newest event folded in, the cap counters, and a count and id sum of the events
    folded in, which the next rescore checks against the database to notice a rewritten
    history. Written by every rescore; a row of another model version is ignored."""

    __tablename__ = "lead_score_states"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("scoring_versions.id", ondelete="CASCADE"))
    # The running score at ``value_at`` (the last event that earned points).
    value: Mapped[float] = mapped_column(Float)
    value_at: Mapped[datetime | None]
    # The newest event folded in, by (occurred_at, id): later ones may be added to it.
    last_at: Mapped[datetime | None]
    last_id: Mapped[int | None]
    # The highest event id folded in: later events have higher ids (or are checked for).
    max_id: Mapped[int | None]
    events: Mapped[int]
    id_sum: Mapped[int] = mapped_column(BigInteger)
    # The UTC day of ``last_at`` and each rule's points on it; each rule's points in total.
    day: Mapped[str | None] = mapped_column(String(10))
    day_used: Mapped[dict[str, float]] = mapped_column(JSON)
    total_used: Mapped[dict[str, float]] = mapped_column(JSON)

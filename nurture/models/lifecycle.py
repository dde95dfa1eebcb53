"""Lifecycle stage changes: when a lead moved from which stage to which, why, and by whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import FetchedValue, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class StageChange(Base):
    """One move of a lead through the lifecycle (``nurture.leads.lifecycle.change_stage``).

    ``actor`` says who moved it: ``rule:<name>`` (a readiness rule), ``user:<email>`` (a
    salesperson or marketer), ``import`` (an explicit stage in a CSV or API upsert) or
    ``system``. ``rule`` names the readiness or handoff rule when one applied.

    ``stay_began_at`` and ``stay_stage`` are the stay the change ends
    (``nurture.analytics.durations.stays``): the time and ``to_stage`` of the lead's change
    just before it in (``at``, ``id``) order, NULL for its first. Triggers (migration 9840)
    keep them for every writer; ``nurture.analytics.stay_columns`` recomputes them.
    """

    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_lead_id_at", "lead_id", "at"),
        # New MQLs (or any stage) of a period, for the home page and the reports; with the
        # lead, so that the leads that entered a stage are read from the index alone.
        Index("ix_stage_changes_to_stage_at_lead_id", "to_stage", "at", "lead_id"),
        # The stays that ended in a period, by stage (velocity's time in stage), read from
        # the index alone; a lead's first change ends no stay and is left out.
        Index(
            "ix_stage_changes_stay_stage_at",
            "stay_stage",
            "at",
            postgresql_include=["stay_began_at", "lead_id"],
            postgresql_where=text("stay_stage IS NOT NULL"),
            sqlite_where=text("stay_stage IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(100))
    # Written by the database's triggers, never by the ORM: after a flush they are expired
    # and read back on access, not fetched by the insert (on SQLite the trigger runs after
    # the insert's RETURNING).
    stay_began_at: Mapped[datetime | None] = mapped_column(server_default=FetchedValue())
    stay_stage: Mapped[str | None] = mapped_column(String(20), server_default=FetchedValue())

    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 (read by the mapper once)

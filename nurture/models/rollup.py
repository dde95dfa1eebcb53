"""Roll-ups of history that the reports read instead of the history itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base


class LeadStageFirst(Base):
    """When a lead first entered each funnel stage, beside its creation: one row per lead
    that has entered at least one (``nurture.analytics.rollup`` keeps it).

    It is ``stage_changes`` summed up (the first time of each stage a change entered, by
    ``nurture.analytics.definitions.entered_stages``), written in the transaction of each
    stage change and always equal to a full recomputation from ``stage_changes``
    (``nurture db rebuild-rollups`` recomputes it). It names no person: erasure keeps it,
    as it keeps the stage changes.
    """

    __tablename__ = "lead_stage_firsts"
    __table_args__ = (
        # The cohort view reads the leads created in a period.
        Index("ix_lead_stage_firsts_created_at", "created_at"),
    )

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The lead's creation (``leads.created_at``, which never changes), so the cohort view
    # needs no join to the leads when it filters on nothing else.
    created_at: Mapped[datetime]
    mql_at: Mapped[datetime | None]
    sal_at: Mapped[datetime | None]
    sql_at: Mapped[datetime | None]
    opportunity_at: Mapped[datetime | None]
    customer_at: Mapped[datetime | None]

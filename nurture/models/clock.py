"""The simulated clock of a demo or test instance (``NURTURE_SIMULATED_TIME``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base

# One instance, one clock: the row is the instance's "now", not a list of them.
CLOCK_ROW_ID = 1


class SimulatedClock(Base):
    """The time the last ``nurture tick --now`` ran at, and when (by the wall clock) it ran.

    The instance's simulated now is ``simulated_at`` plus the wall-clock time elapsed since
    ``set_at``: a hit a minute after the tick is a minute after the tick's time, so the
    order of everything that happens stays the order it happened in.
    """

    __tablename__ = "simulated_clock"
    __table_args__ = (CheckConstraint(f"id = {CLOCK_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    simulated_at: Mapped[datetime]
    set_at: Mapped[datetime]

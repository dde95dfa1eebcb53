"""Marketing costs: what was spent per month on a source and/or a campaign, from the costs
file (``NURTURE_COSTS_FILE``) or entered in the app and the API (docs/costs.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.file_version import FileVersionColumns
from nurture.platform.db import Base, utcnow


class CostFileVersion(FileVersionColumns, Base):
    """One validated revision of the costs file. Exactly one is active; its entries are the
    ``costs`` rows of origin ``file``."""

    __tablename__ = "cost_file_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    checksum: Mapped[str] = mapped_column(String(64), unique=True)


class Cost(Base):
    """One month's spend on a source, a campaign, or a campaign within a source.

    ``source`` and ``campaign`` are ``""`` when the entry does not name one (so the unique
    key holds on every backend: NULLs are never equal in a unique constraint). One entry
    per month, source and campaign whatever its origin: the file and the app cannot both
    set the same one, so no cost is counted twice.
    """

    __tablename__ = "costs"
    __table_args__ = (UniqueConstraint("month", "source", "campaign"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The first day of the month the amount was spent in.
    month: Mapped[date]
    source: Mapped[str] = mapped_column(String(100), default="")
    campaign: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(500))
    # file | app
    origin: Mapped[str] = mapped_column(String(10))
    # The file's line of an entry of origin file (the file is the active version's path).
    file_line: Mapped[int | None]
    # Who entered it: the file's path, a user of the app, or an API key.
    entered_by: Mapped[str] = mapped_column(String(320))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

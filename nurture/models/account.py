"""Accounts: the companies leads work for."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.platform.db import Base, utcnow

if TYPE_CHECKING:
    from nurture.models.lead import Lead


class Account(Base):
    """A company. Leads join it by email domain or explicitly."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-case registrable domain; null for accounts created by hand without one.
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None]
    annual_revenue: Mapped[int | None] = mapped_column(BigInteger)
    branches: Mapped[int | None]
    country: Mapped[str | None] = mapped_column(String(2))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The rep who accepted a lead of this account: the account's next leads go to them first.
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_reps.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    leads: Mapped[list[Lead]] = relationship(back_populates="account")

"""Accounts: the companies leads work for."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.platform.db import Base, utcnow

if TYPE_CHECKING:
    from nurture.models.lead import Lead


class Account(Base):
    """A company. Leads join it by email domain or explicitly."""

    __tablename__ = "accounts"
    __table_args__ = (
        # Company search in the lead list: a prefix of the name (``name_key``) or domain.
        Index("ix_accounts_name_key", "name_key", postgresql_ops={"name_key": "text_pattern_ops"}),
        Index(
            "ix_accounts_domain_pattern", "domain", postgresql_ops={"domain": "text_pattern_ops"}
        ),
        # The account list's sort orders and filters (nurture.reports.accounts).
        Index("ix_accounts_score_rank_id", "score_rank", "id"),
        Index("ix_accounts_last_activity_at_id", "last_activity_at", "id"),
        Index("ix_accounts_name_id", "name", "id"),
        Index("ix_accounts_industry", "industry"),
        Index("ix_accounts_country", "country"),
        Index("ix_accounts_employees", "employees"),
    )

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
    # The engagement score rolled up from its people (nurture.handoff.account_scores), kept
    # so lists can sort accounts by it: (value, as_of), decayed when read like a lead's, and
    # ``score_rank``, an order that stays true as every score decays at the same rate.
    score_value: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    score_as_of: Mapped[datetime | None]
    score_rank: Mapped[float] = mapped_column(Float, default=-1.0e9, server_default="-1000000000")
    # The latest human activity (open, click, visit, form…) of any of its people.
    last_activity_at: Mapped[datetime | None]

    # The name lower-cased, kept by ``_derive_name_key`` on every ORM insert and update.
    name_key: Mapped[str] = mapped_column(String(200), default="", server_default="")

    leads: Mapped[list[Lead]] = relationship(back_populates="account")


@event.listens_for(Account, "before_insert")
@event.listens_for(Account, "before_update")
def _derive_name_key(_mapper: object, _connection: object, account: Account) -> None:
    account.name_key = (account.name or "").strip().lower()[:200]

"""Revenue after the first deal: renewals, upsells and other income booked per account."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class RevenueEntry(Base):
    """An amount an account paid (or was invoiced) on ``booked_on``.

    A customer's first revenue is its won deal (``handoffs.deal_value``); these rows are
    what came later (``kind``: ``deal``, ``renewal``, ``upsell`` or ``other``), so the
    customer lifetime value is the won deals plus the entries (docs/analytics.md).
    ``lead_id`` optionally names the person the sale was made with.
    """

    __tablename__ = "revenue_entries"
    __table_args__ = (
        # An account's entries (its page, the CLV report) and a period's entries.
        Index("ix_revenue_entries_account_id_booked_on", "account_id", "booked_on"),
        Index("ix_revenue_entries_booked_on", "booked_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # ISO 4217, upper case.
    currency: Mapped[str] = mapped_column(String(3))
    booked_on: Mapped[date]
    # deal | renewal | upsell | other
    kind: Mapped[str] = mapped_column(String(20), default="other")
    note: Mapped[str | None] = mapped_column(String(500))
    # cli | api:<key name> | user:<user id> (the web app) | demo
    who: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The demo's revenue after the won deals: a few customers buy more seats soon after
(``revenue_entries``), so the CLV report has entries to add to the deals."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from nurture.handoff.revenue import add_revenue
from nurture.models import Account, Handoff
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

# Each won customer buys a quarter more a few days after the deal (when that day is
# still within the simulated weeks).
UPSELL_SHARE = Decimal("0.25")
UPSELL_AFTER = timedelta(days=3)


def book_upsells(runtime: Runtime, end: datetime) -> int:
    """Book an upsell for each won deal with a value and an account, on a day not after
    ``end``; returns how many were booked."""
    booked = 0
    with transaction(runtime.sessions) as session:
        won = session.execute(
            select(
                Handoff.account_id, Handoff.outcome_at, Handoff.deal_value, Handoff.deal_currency
            )
            .where(
                Handoff.outcome == "won",
                Handoff.deal_value.is_not(None),
                Handoff.account_id.is_not(None),
            )
            .order_by(Handoff.outcome_at, Handoff.id)
        ).all()
        for account_id, won_at, value, currency in won:
            if won_at is None:
                continue
            day = (won_at + UPSELL_AFTER).date()
            account = session.get(Account, account_id)
            if account is None or value is None or not currency:
                continue
            if day > end.date():
                continue
            add_revenue(
                session,
                account,
                amount=(value * UPSELL_SHARE).quantize(Decimal("0.01")),
                currency=currency,
                booked_on=day,
                kind="upsell",
                note="more seats",
                who="demo",
                now=end,
            )
            booked += 1
    return booked

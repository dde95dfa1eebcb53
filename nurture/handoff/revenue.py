"""Revenue after the won deal: recording and listing an account's revenue entries
(renewals, upsells, other income). The caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.handoff.revenue_rules import RevenueError, check_entry
from nurture.models import Account, Lead, RevenueEntry


@dataclass(frozen=True)
class RevenueLine:
    """One entry as shown: the account's domain (or name) and the lead's address (or
    ``(erased)``), never more of the person."""

    id: int
    account_id: int
    account: str
    lead_id: int | None
    lead: str | None
    amount: Decimal
    currency: str
    booked_on: str
    kind: str
    note: str | None
    who: str
    created_at: datetime

    def as_dict(self) -> dict[str, object]:
        """The entry as plain values (the API's body); the amount as an exact string."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "account": self.account,
            "lead_id": self.lead_id,
            "lead": self.lead,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "booked_on": self.booked_on,
            "kind": self.kind,
            "note": self.note,
            "who": self.who,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


def add_revenue(
    session: Session,
    account: Account,
    *,
    amount: object,
    currency: object,
    booked_on: object,
    kind: object = None,
    note: object = None,
    lead_ref: int | None = None,
    who: str,
    now: datetime,
) -> RevenueEntry:
    """Book revenue for ``account`` (``RevenueError`` naming every bad field; a lead must
    exist and not be erased, and need not belong to the account: people move)."""
    errors: dict[str, str] = {}
    try:
        values = check_entry(
            amount=amount,
            currency=currency,
            booked_on=booked_on,
            kind=kind,
            note=note,
            today=now.date(),
        )
    except RevenueError as error:
        errors.update(error.errors)
        values = None
    if lead_ref is not None:
        lead = session.get(Lead, lead_ref)
        if lead is None or lead.erased_at is not None:
            errors["lead"] = f"no lead {lead_ref}"
    if errors or values is None:
        raise RevenueError(errors)
    entry = RevenueEntry(
        account_id=account.id,
        lead_id=lead_ref,
        amount=values.amount,
        currency=values.currency,
        booked_on=values.booked_on,
        kind=values.kind,
        note=values.note,
        who=who[:320],
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def revenue_lines(
    session: Session,
    *,
    account_id: int | None = None,
    entry_id: int | None = None,
    limit: int = 1000,
) -> list[RevenueLine]:
    """Revenue entries, newest booking first (of one account, or of all; or the one
    ``entry_id``)."""
    query = (
        select(RevenueEntry, Account.domain, Account.name, Lead.email, Lead.erased_at)
        .join(Account, Account.id == RevenueEntry.account_id)
        .outerjoin(Lead, Lead.id == RevenueEntry.lead_id)
        .order_by(RevenueEntry.booked_on.desc(), RevenueEntry.id.desc())
        .limit(limit)
    )
    if account_id is not None:
        query = query.where(RevenueEntry.account_id == account_id)
    if entry_id is not None:
        query = query.where(RevenueEntry.id == entry_id)
    lines = []
    for entry, domain, name, email, erased_at in session.execute(query):
        lines.append(
            RevenueLine(
                id=entry.id,
                account_id=entry.account_id,
                account=domain or name or f"account {entry.account_id}",
                lead_id=entry.lead_id,
                lead=None if entry.lead_id is None else "(erased)" if erased_at else email,
                amount=entry.amount,
                currency=entry.currency,
                booked_on=entry.booked_on.isoformat(),
                kind=entry.kind,
                note=entry.note,
                who=entry.who,
                created_at=entry.created_at,
            )
        )
    return lines

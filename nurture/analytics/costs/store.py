"""The cost entries of the app and the API: list them (with the file's), put one (insert
or update), delete one (docs/costs.md).

The file's entries are read-only here: an entry of the app for a month, source and
campaign the file already sets is refused with the file's path and line, so the same
spend is never counted twice; the file is edited in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.analytics.costs.entries import (
    CostFieldError,
    month_text,
    parse_currency,
    parse_entry,
)
from nurture.analytics.costs.sync import (
    ORIGIN_APP,
    ORIGIN_FILE,
    active_version,
    reporting_currency,
)
from nurture.models import Campaign, Cost


class CostConflict(ValueError):
    """A change the entries already there forbid (the file sets it, or it is the file's)."""


@dataclass(frozen=True)
class StoredCost:
    """A cost entry as stored, with where it came from (``file_path``:``file_line`` for
    the file's entries)."""

    id: int
    month: str
    source: str | None
    campaign: str | None
    amount: Decimal
    currency: str
    note: str | None
    origin: str
    file_path: str | None
    file_line: int | None
    entered_by: str
    entered_at: datetime
    updated_at: datetime

    @property
    def editable(self) -> bool:
        """Whether the app may change it (the file's entries change in the file)."""
        return self.origin == ORIGIN_APP

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain values (the API's body); the amount as text, exact."""
        return {
            "id": self.id,
            "month": self.month,
            "source": self.source,
            "campaign": self.campaign,
            "amount": str(self.amount),
            "currency": self.currency,
            "note": self.note,
            "origin": self.origin,
            "file": f"{self.file_path}:{self.file_line}" if self.file_path else None,
            "entered_by": self.entered_by,
            "entered_at": self.entered_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def list_costs(
    session: Session, *, start: date | None = None, end: date | None = None
) -> list[StoredCost]:
    """Every entry whose month starts in ``[start, end)`` (either bound may be None), by
    month, source and campaign."""
    query = select(Cost).order_by(Cost.month, Cost.source, Cost.campaign, Cost.id)
    if start is not None:
        query = query.where(Cost.month >= date(start.year, start.month, 1))
    if end is not None:
        query = query.where(Cost.month < end)
    path = _file_path(session)
    return [_stored(row, path) for row in session.scalars(query)]


def get_cost(session: Session, cost_id: int) -> StoredCost | None:
    """One entry, or None."""
    row = session.get(Cost, cost_id)
    return _stored(row, _file_path(session)) if row is not None else None


def put_cost(
    session: Session,
    fields: dict[str, Any],
    *,
    who: str,
    now: datetime,
    cost_id: int | None = None,
) -> tuple[StoredCost, bool]:
    """Enter a cost in the app: update the entry ``cost_id`` (an app entry), else the app's
    entry for the same month, source and campaign, else a new one. Returns the entry and
    whether it is new. ``CostFieldError`` names each bad field (``currency`` when it is not
    the reporting currency, ``campaign`` when no campaign has that key); ``CostConflict``
    when the file sets that month, source and campaign; ``LookupError`` for an unknown id."""
    errors: dict[str, str] = {}
    entry = None
    try:
        entry = parse_entry(fields)
    except CostFieldError as error:
        errors.update(error.errors)
    currency = reporting_currency(session)
    given = fields.get("currency")
    if given not in (None, ""):
        try:
            wanted = parse_currency(given)
        except ValueError as error:
            errors["currency"] = str(error)
        else:
            if currency is not None and wanted != currency:
                errors["currency"] = f"costs are reported in {currency}: enter the amount in it"
            currency = currency or wanted
    elif currency is None:
        errors["currency"] = "required for the first cost (an ISO 4217 code like EUR)"
    campaign = fields.get("campaign")
    if isinstance(campaign, str) and campaign.strip() and "campaign" not in errors:
        known = select(Campaign.id).where(Campaign.key == campaign.strip())
        if session.scalar(known) is None:
            errors["campaign"] = f"no campaign has the key {campaign.strip()!r}"
    if errors or entry is None:
        raise CostFieldError(errors)
    assert currency is not None
    same_key = session.scalar(
        select(Cost).where(
            Cost.month == entry.month, Cost.source == entry.source, Cost.campaign == entry.campaign
        )
    )
    if same_key is not None and same_key.origin == ORIGIN_FILE:
        raise CostConflict(
            f"{entry.describe()} is set by the costs file at "
            f"{_file_path(session) or 'the costs file'}:{same_key.file_line}: "
            "change it there (an entry here would count it twice)"
        )
    row: Cost | None
    if cost_id is not None:
        row = session.get(Cost, cost_id)
        if row is None:
            raise LookupError(cost_id)
        if row.origin != ORIGIN_APP:
            raise CostConflict(_file_only(session, row))
        if same_key is not None and same_key.id != row.id:
            raise CostConflict(
                f"{entry.describe()} already has an entry (#{same_key.id}): edit that one"
            )
    else:
        row = same_key
    created = row is None
    if row is None:
        row = Cost(origin=ORIGIN_APP, entered_at=now)
        session.add(row)
    row.month, row.source, row.campaign = entry.month, entry.source, entry.campaign
    row.amount, row.currency, row.note = entry.amount, currency, entry.note
    row.entered_by = who[:320]
    row.updated_at = now
    session.flush()
    return _stored(row, None), created


def delete_cost(session: Session, cost_id: int) -> StoredCost:
    """Delete an app entry; ``LookupError`` for an unknown id, ``CostConflict`` for the
    file's (which change in the file)."""
    row = session.get(Cost, cost_id)
    if row is None:
        raise LookupError(cost_id)
    if row.origin != ORIGIN_APP:
        raise CostConflict(_file_only(session, row))
    stored = _stored(row, None)
    session.delete(row)
    session.flush()
    return stored


def _file_only(session: Session, row: Cost) -> str:
    where = f"{_file_path(session) or 'the costs file'}:{row.file_line}"
    return f"entry #{row.id} comes from the costs file ({where}): change it there"


def _file_path(session: Session) -> str | None:
    version = active_version(session)
    return version.source_path if version is not None else None


def _stored(row: Cost, file_path: str | None) -> StoredCost:
    from_file = row.origin == ORIGIN_FILE
    return StoredCost(
        id=row.id,
        month=month_text(row.month),
        source=row.source or None,
        campaign=row.campaign or None,
        amount=Decimal(row.amount).quantize(Decimal("0.01")),
        currency=row.currency,
        note=row.note,
        origin=row.origin,
        file_path=file_path if from_file else None,
        file_line=row.file_line if from_file else None,
        entered_by=row.entered_by,
        entered_at=row.entered_at,
        updated_at=row.updated_at,
    )

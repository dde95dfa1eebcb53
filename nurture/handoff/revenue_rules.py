"""What a revenue entry may hold (pure): the amount, currency, date, kind and note, each
checked with a reason the CLI and the API show as they are (docs/analytics.md, "Revenue
and CLV")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import list_currencies

KINDS: tuple[str, ...] = ("deal", "renewal", "upsell", "other")
# Numeric(14, 2) holds less than 10^12; a larger amount is a typo, not a sale.
MAX_AMOUNT = Decimal("1000000000000")
MAX_NOTE = 500
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RevenueError(ValueError):
    """A revenue entry that cannot be recorded: ``errors`` maps each field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class EntryValues:
    """A revenue entry's values, checked."""

    amount: Decimal
    currency: str
    booked_on: date
    kind: str
    note: str | None


def check_entry(
    *,
    amount: object,
    currency: object,
    booked_on: object,
    kind: object = None,
    note: object = None,
    today: date,
) -> EntryValues:
    """The entry's values from what was given (strings, numbers, a date), or
    ``RevenueError`` naming every bad one: the amount must be a number above 0 and below
    10^12 with at most two decimals, the currency an ISO 4217 code, the date a calendar day
    not after ``today``, the kind one of ``KINDS`` (default ``other``), the note at most
    500 characters."""
    errors: dict[str, str] = {}
    value = _amount(amount, errors)
    code = _currency(currency, errors)
    day = _day(booked_on, today, errors)
    kind_text = str(kind).strip().lower() if kind is not None else ""
    if not kind_text:
        kind_text = "other"
    elif kind_text not in KINDS:
        errors["kind"] = f"unknown kind {kind_text[:40]!r}: use one of {', '.join(KINDS)}"
    note_text = str(note).strip() if note is not None else ""
    if len(note_text) > MAX_NOTE:
        errors["note"] = f"at most {MAX_NOTE} characters"
    if errors:
        raise RevenueError(errors)
    assert value is not None and code is not None and day is not None
    return EntryValues(value, code, day, kind_text, note_text or None)


def _amount(given: object, errors: dict[str, str]) -> Decimal | None:
    if given is None or given == "" or isinstance(given, bool):
        errors["amount"] = "required: a number such as 1200 or 1200.50"
        return None
    try:
        value = Decimal(str(given).strip())
    except (InvalidOperation, ValueError):
        errors["amount"] = f"{str(given)[:40]!r} is not a number"
        return None
    if not value.is_finite():
        errors["amount"] = f"{str(given)[:40]!r} is not a number"
    elif value <= 0:
        errors["amount"] = "must be above 0 (a refund is not revenue: leave it out)"
    elif value >= MAX_AMOUNT:
        errors["amount"] = "must be below 1000000000000"
    elif value != value.quantize(Decimal("0.01")):
        errors["amount"] = "at most two decimals (cents)"
    else:
        return value.quantize(Decimal("0.01"))
    return None


def _currency(given: object, errors: dict[str, str]) -> str | None:
    code = str(given).strip().upper() if given is not None else ""
    if not code:
        errors["currency"] = "required: an ISO 4217 code such as EUR or USD"
    elif not _CURRENCY.match(code) or code not in list_currencies():
        errors["currency"] = f"{code[:40]!r} is not an ISO 4217 currency code (EUR, USD, …)"
    else:
        return code
    return None


def _day(given: object, today: date, errors: dict[str, str]) -> date | None:
    if isinstance(given, date):
        day = given
    else:
        text = str(given).strip() if given is not None else ""
        if not text:
            errors["booked_on"] = "required: the day it was booked, YYYY-MM-DD"
            return None
        if not _DAY.match(text):
            errors["booked_on"] = f"{text[:40]!r} is not a date: use YYYY-MM-DD"
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors["booked_on"] = f"{text!r} is not a date of the calendar"
            return None
    if day > today:
        errors["booked_on"] = f"{day} is in the future: book revenue when it happens"
        return None
    if day.year < 1970:
        errors["booked_on"] = f"{day} is before 1970"
        return None
    return day

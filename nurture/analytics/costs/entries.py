"""Cost entries (pure): a month, a source and/or a campaign, an amount; how a month's cost
is shared when a period cuts the month; and the cost per lead, MQL and customer.

The file parser and the app's form and API read the same fields through the functions
here, so a value the file refuses is refused by the API too, with the same words.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 codes are three capital letters; the list of codes changes, so the form is
# checked rather than a list kept here.
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
# The largest amount a Numeric(14, 2) column holds.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_KEY = 100
MAX_NOTE = 500
CENT = Decimal("0.01")


class CostFieldError(ValueError):
    """Entry fields that cannot be used: ``errors`` maps each field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CostEntry:
    """One month's spend: on a ``source`` (a lead's source), a ``campaign`` (its key), or
    a campaign within a source; ``""`` where the entry does not name one."""

    month: date
    source: str
    campaign: str
    amount: Decimal
    note: str | None = None

    @property
    def key(self) -> tuple[date, str, str]:
        """What makes an entry unique: the month, the source and the campaign."""
        return (self.month, self.source, self.campaign)

    def describe(self) -> str:
        """``2026-01 source 'webinar' campaign 'welcome'``, for messages."""
        parts = [month_text(self.month)]
        if self.source:
            parts.append(f"source {self.source!r}")
        if self.campaign:
            parts.append(f"campaign {self.campaign!r}")
        return " ".join(parts)


def month_text(month: date) -> str:
    """A month as written in the file: ``2026-01``."""
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(value: object) -> date:
    """``YYYY-MM`` as the first day of that month; ValueError saying why not."""
    text = str(value).strip() if isinstance(value, str | int) else None
    match = _MONTH_RE.match(text or "")
    if match is None:
        raise ValueError(f"{value!r} is not a month: use YYYY-MM, like 2026-01")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"{value!r} is not a month: the month must be 01 to 12")
    if not 1970 <= year <= 2999:
        raise ValueError(f"{value!r} is outside the years 1970 to 2999")
    return date(year, month, 1)


def parse_amount(value: object) -> Decimal:
    """A non-negative amount with at most two decimals (a number, or text like ``"12.50"``);
    ValueError saying why not."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"the amount must be a number, not {value!r}")
    try:
        # Through str: a YAML float 0.1 is the amount 0.1, not its binary neighbour.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"the amount must be a number, not {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"the amount must be a number, not {value!r}")
    if amount < 0:
        raise ValueError(f"the amount {value} is negative: a cost is 0 or more")
    # The size first: quantizing 1.8e308 to cents needs more digits than Decimal keeps.
    if amount > MAX_AMOUNT:
        raise ValueError(f"the amount {value} is too large (at most {MAX_AMOUNT})")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(f"the amount {value} has more than two decimals")
    return amount.quantize(CENT)


def parse_key(value: object, what: str) -> str:
    """A source or campaign key: printable text of at most ``MAX_KEY`` characters (empty
    when not given); ValueError saying why not."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"the {what} must be text, not {value!r}")
    text = value.strip()
    if len(text) > MAX_KEY or not text.isprintable():
        raise ValueError(f"the {what} must be at most {MAX_KEY} printable characters")
    return text


def parse_note(value: object) -> str | None:
    """An optional note of at most ``MAX_NOTE`` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"the note must be text, not {value!r}")
    text = value.strip()
    if len(text) > MAX_NOTE:
        raise ValueError(f"the note is too long ({len(text)} characters; at most {MAX_NOTE})")
    return text or None


def parse_currency(value: object) -> str:
    """An ISO 4217 code (``EUR``), upper-cased; ValueError saying why not."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not CURRENCY_RE.match(text):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code like EUR or USD")
    return text


def parse_entry(fields: dict[str, object]) -> CostEntry:
    """An entry from plain fields (``month``, ``source``, ``campaign``, ``amount``,
    ``note``), or ``CostFieldError`` naming every bad one."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    readers = {
        "month": parse_month,
        "source": lambda v: parse_key(v, "source"),
        "campaign": lambda v: parse_key(v, "campaign"),
        "amount": parse_amount,
        "note": parse_note,
    }
    for name, read in readers.items():
        value = fields.get(name)
        if name in ("month", "amount") and (value is None or value == ""):
            errors[name] = "required"
            continue
        try:
            values[name] = read(value)
        except ValueError as error:
            errors[name] = str(error)
    if "source" in values and "campaign" in values and not (values["source"] or values["campaign"]):
        errors["source"] = "name a source, a campaign or both"
    if errors:
        raise CostFieldError(errors)
    return CostEntry(
        month=values["month"],  # type: ignore[arg-type]
        source=values["source"],  # type: ignore[arg-type]
        campaign=values["campaign"],  # type: ignore[arg-type]
        amount=values["amount"],  # type: ignore[arg-type]
        note=values["note"],  # type: ignore[arg-type]
    )


def days_in_month(month: date) -> int:
    """How many days ``month`` has."""
    return monthrange(month.year, month.month)[1]


def share_in_period(month: date, start: date, end: date) -> Decimal:
    """The part of ``month``'s cost that falls in ``[start, end)``: the days of the month
    inside the period over the days of the month (1 for a whole month, 0 outside)."""
    first = date(month.year, month.month, 1)
    last = date(month.year, month.month, days_in_month(month))  # inclusive
    inside_from = max(first, start)
    inside_to = min(last.toordinal() + 1, end.toordinal())
    days = inside_to - inside_from.toordinal()
    if days <= 0:
        return Decimal(0)
    return Decimal(days) / Decimal(days_in_month(month))


def money(value: Decimal) -> Decimal:
    """``value`` rounded to the cent (half up, as people round money)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cost_per(cost: Decimal, count: int) -> Decimal | None:
    """The cost of one: ``cost / count`` to the cent, or None when nothing was counted
    (never 0 and never infinity)."""
    if count <= 0:
        return None
    return money(cost / count)


def parse_month_range(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """The months ``[start, end)`` of a listing (``YYYY-MM``; either may be empty), or
    ``CostFieldError`` naming ``from`` and ``to``."""
    errors: dict[str, str] = {}
    bounds: list[date | None] = []
    for name, text in (("from", start), ("to", end)):
        if text is None or not text.strip():
            bounds.append(None)
            continue
        try:
            bounds.append(parse_month(text.strip()))
        except ValueError as error:
            errors[name] = str(error)
            bounds.append(None)
    first, last = bounds
    if first is not None and last is not None and last <= first:
        errors["to"] = f"the end ({month_text(last)}) must be after the start ({month_text(first)})"
    if errors:
        raise CostFieldError(errors)
    return first, last

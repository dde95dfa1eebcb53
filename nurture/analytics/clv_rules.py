"""Customer lifetime value's rules (pure): months as a customer, a customer's revenue in
the report's currency and apart from it, and the average (docs/analytics.md, "Revenue and
CLV").

Historical CLV: a customer's lifetime value is the revenue it has brought to date (its won
deals and the revenue entries booked for its account), not a forecast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import list_currencies

ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_CODE = re.compile(r"^[A-Z]{3}$")


def months_between(since: date, until: date) -> int:
    """Whole months from ``since`` to ``until`` (0 when ``until`` is not later): Jan 31 to
    Feb 28 is 0 months, Jan 15 to Mar 15 is 2."""
    months = (until.year - since.year) * 12 + until.month - since.month
    if until.day < since.day:
        months -= 1
    return max(months, 0)


def currency_error(code: str | None) -> str | None:
    """Why ``code`` is not a currency reports can be made in, or None."""
    if code is None:
        return None
    if not _CODE.match(code) or code not in list_currencies():
        return f"{code[:40]!r} is not an ISO 4217 currency code (EUR, USD, …)"
    return None


def split_currency(
    amounts: Mapping[str, Decimal], currency: str
) -> tuple[Decimal, dict[str, Decimal]]:
    """The amount in ``currency`` and, apart, those in any other (never converted or
    summed together: no exchange rate is known)."""
    inside = amounts.get(currency, ZERO)
    apart = {code: amount for code, amount in sorted(amounts.items()) if code != currency}
    return inside, apart


def add_to(totals: dict[str, Decimal], amounts: Mapping[str, Decimal]) -> None:
    """Add ``amounts`` (per currency) to ``totals``."""
    for code, amount in amounts.items():
        totals[code] = totals.get(code, ZERO) + amount


def average(values: Iterable[Decimal]) -> Decimal | None:
    """The mean to the cent (half up), None for no values."""
    found = list(values)
    if not found:
        return None
    return (sum(found, ZERO) / len(found)).quantize(_CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal | None) -> str | None:
    """An amount as reports write it: exact, two decimals (``"1200.50"``)."""
    return None if amount is None else f"{amount.quantize(_CENT):.2f}"

"""Numbers, amounts, dates and moments in an email as its reader writes them: the Jinja
filters ``number``, ``currency``, ``date`` and ``datetime`` (the names and arguments of the
web app's own filters, ``nurture.web.ui.formatting``), Babel-formatted per recipient.

Whose conventions: the context's ``locale`` when the email is internal (the rep's language),
else the lead's ``locale`` (``pl-PL``: Polish, with Poland's conventions), else the language
of the template variant being rendered, else English. Moments are shown in the lead's
``timezone`` (UTC when it has none).

A value a template hands these filters that is not a number or a date, an unknown currency
or style, is a ``FormatError``: the render stops with the template file and line
(``nurture campaigns validate`` runs every template against sample leads, so a mistake in
the template is found there, not at send time). An empty value (None, "") prints nothing,
as ``{{ lead.title }}`` does.
"""

from __future__ import annotations

from copy import copy
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency as babel_currency
from babel.numbers import format_decimal, is_currency, parse_pattern
from jinja2 import pass_context
from jinja2.runtime import Context

from nurture.platform.i18n import DEFAULT_LOCALE

# The context key a template's language variant is passed in (``CompiledTemplate.render``):
# a name no template can write, so none can replace it.
VARIANT_KEY = "nurture:language"
STYLES = ("short", "medium", "long", "full")
# Decimals a template may ask for: more is never money or a count a person reads.
MAX_DIGITS = 6
# Beyond this a number is no amount or count (and rounding it would lose digits).
LARGEST = Decimal(10) ** 15


class FormatError(ValueError):
    """A value or argument the formatting filters cannot format; the message says what to
    write instead."""


def reader_locale(context: Context) -> Locale:
    """The Babel locale the email's numbers and dates follow (see the module docstring)."""
    lead = context.get("lead")
    for tag in (
        context.get("locale"),
        getattr(lead, "locale", None),
        context.get(VARIANT_KEY),
    ):
        if isinstance(tag, str) and tag:
            try:
                return Locale.parse(tag.replace("-", "_"))
            except (UnknownLocaleError, ValueError, TypeError):
                continue
    return Locale.parse(DEFAULT_LOCALE)


def _zone(context: Context) -> tzinfo:
    lead = context.get("lead")
    name = getattr(lead, "timezone", None)
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(value: Any, filter_name: str) -> Decimal:
    """``value`` as a number: an int, float or Decimal, or text that reads as one (custom
    attributes imported from CSV are text)."""
    if isinstance(value, bool):
        raise FormatError(f"{filter_name}: {value!r} is a yes/no value, not a number")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(" ", "").replace("_", ""))
        except InvalidOperation:
            raise FormatError(f"{filter_name}: {value!r} is not a number") from None
    else:
        raise FormatError(f"{filter_name}: a {type(value).__name__} is not a number")
    if not number.is_finite():
        raise FormatError(f"{filter_name}: {value!r} is not a finite number")
    if abs(number) >= LARGEST:
        raise FormatError(f"{filter_name}: {value!r} is too large to be a figure people read")
    return number


def _digits(digits: Any) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= MAX_DIGITS:
        raise FormatError(f"digits must be a whole number from 0 to {MAX_DIGITS}")
    return digits


def _style(style: Any, filter_name: str) -> str:
    if style not in STYLES:
        raise FormatError(f"{filter_name}: unknown style {style!r}: use one of {', '.join(STYLES)}")
    return str(style)


def _moment(value: Any, filter_name: str) -> date:
    """``value`` as a date or datetime: one, or ISO 8601 text (``2026-12-01``,
    ``2026-12-01T10:00:00Z``)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                datetime.fromisoformat(text.replace("Z", "+00:00"))
                if "T" in text or " " in text
                else date.fromisoformat(text)
            )
        except ValueError:
            pass
    raise FormatError(
        f"{filter_name}: {value!r} is not a date; give a date or ISO 8601 text (2026-12-01)"
    )


@pass_context
def number_filter(context: Context, value: Any, digits: int = 0) -> str:
    """``{{ account.employees | number }}`` → ``1 250`` (pl), ``1,250`` (en); ``digits``
    fixes the decimals: ``{{ 1234.5 | number(2) }}`` → ``1 234,50``."""
    if _empty(value):
        return ""
    places = _digits(digits)
    amount = _decimal(value, "number")
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return str(format_decimal(round(amount, places), format=pattern, locale=reader_locale(context)))


@pass_context
def currency_filter(
    context: Context, value: Any, currency: Any = None, digits: int | None = None
) -> str:
    """``{{ 1234.5 | currency("PLN") }}`` → ``1 234,50 zł`` (pl), ``PLN1,234.50`` (en), with
    the currency's own decimals; ``digits`` fixes them: ``{{ 3600 | currency("PLN", 0) }}``
    → ``3 600 zł`` (a price list)."""
    if not isinstance(currency, str) or not is_currency(currency.strip().upper()):
        raise FormatError(
            f"currency: unknown currency {currency!r}: give an ISO 4217 code such as "
            'currency("EUR"), currency("PLN") or currency("USD")'
        )
    code = currency.strip().upper()
    places = None if digits is None else _digits(digits)
    if _empty(value):
        return ""
    amount = _decimal(value, "currency")
    locale = reader_locale(context)
    if places is None:
        return str(babel_currency(amount, code, locale=locale))
    # The locale's own currency pattern (where the sign goes, the spacing) with the
    # decimals asked for.
    pattern = copy(parse_pattern(locale.currency_formats["standard"]))
    pattern.frac_prec = (places, places)
    return str(pattern.apply(round(amount, places), locale, currency=code, currency_digits=False))


@pass_context
def date_filter(context: Context, value: Any, style: str = "medium") -> str:
    """``{{ lead.attributes.renewal | date }}`` → ``1 gru 2026`` (pl), ``Dec 1, 2026`` (en);
    ``style`` is short, medium, long or full. A moment is shown on the lead's calendar."""
    chosen = _style(style, "date")
    if _empty(value):
        return ""
    day = _moment(value, "date")
    if isinstance(day, datetime):
        day = (day if day.tzinfo else day.replace(tzinfo=UTC)).astimezone(_zone(context))
    return str(babel_date(day, chosen, locale=reader_locale(context)))


@pass_context
def datetime_filter(context: Context, value: Any, style: str = "medium") -> str:
    """A moment in the lead's timezone: ``1 gru 2026, 10:00:00`` (pl, medium); a moment
    without a zone is taken as UTC."""
    chosen = _style(style, "datetime")
    if _empty(value):
        return ""
    moment = _moment(value, "datetime")
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str(babel_datetime(moment, chosen, tzinfo=_zone(context), locale=reader_locale(context)))


# What ``nurture.rendering.environment`` adds to every email sandbox.
LOCALE_FILTERS = {
    "number": number_filter,
    "currency": currency_filter,
    "date": date_filter,
    "datetime": datetime_filter,
}

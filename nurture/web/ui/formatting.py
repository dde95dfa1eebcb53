"""Dates, numbers, shares and durations as the reader writes them: Babel-formatted in the
request's locale, one set of Jinja filters (``datetime``, ``number``, ``percent``,
``duration``) for every page, so a table of figures reads the same in every area and a
translation's number and date conventions reach them all at once.

A missing value shows as a dash, not as an empty cell that could be mistaken for a page
that failed to load, nor as "None"."""

from __future__ import annotations

from datetime import date, timedelta
from datetime import datetime as Moment
from decimal import Decimal

from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_timedelta,
)

DASH = "—"


def datetime_text(value: Moment | str | None, style: str = "medium", empty: str = DASH) -> str:
    """A moment in the reader's locale (Babel ``style``: short, medium, long), or ``empty``.

    Some reports carry moments as ISO 8601 text (read from JSON columns); they are
    parsed, so the page shows them like every other moment."""
    if value is None or value == "":
        return empty
    if isinstance(value, str):
        value = Moment.fromisoformat(value.replace("Z", "+00:00"))
    return str(format_datetime(value, style))


def date_text(value: date | None, style: str = "medium") -> str:
    """A calendar day in the reader's locale (Babel ``style``), or a dash."""
    if value is None:
        return DASH
    return str(format_date(value, style))


def number_text(value: float | int | Decimal | None, digits: int = 0) -> str:
    """A number in the reader's locale with exactly ``digits`` decimals, or a dash."""
    if value is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(round(value, digits), format=pattern))


def percent_text(rate: float | None) -> str:
    """A share (0.25) as a percentage with one decimal (25.0%), or a dash when there was
    nothing to divide."""
    if rate is None:
        return DASH
    return str(format_percent(rate, "#,##0.0%"))


def duration_text(value: timedelta | None) -> str:
    """A length of time in its largest whole unit, in words: ``3 days``, ``2 hours``."""
    if value is None:
        return DASH
    return str(format_timedelta(value, threshold=1, add_direction=False))


def init_formatting(app: Flask) -> None:
    """The formatting filters in every template."""
    app.jinja_env.filters.update(
        datetime=datetime_text,
        date=date_text,
        number=number_text,
        percent=percent_text,
        duration=duration_text,
    )

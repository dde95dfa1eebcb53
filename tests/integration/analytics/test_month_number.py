"""``month_number`` as each backend computes it (PostgreSQL's is written with ``date_part``,
the others with ``EXTRACT``): the month of an instant as an integer, exact at the last
millisecond of a month and of a year."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select

from nurture.analytics.scope import month_number
from nurture.platform.db import UTCDateTime, transaction


@pytest.mark.parametrize(
    ("instant", "number"),
    [
        (datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), 202601),
        (datetime(2026, 1, 31, 23, 59, 59, 999000, tzinfo=UTC), 202601),
        (datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC), 202602),
        (datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), 202512),
        (datetime(2026, 12, 15, 12, 0, 0, tzinfo=UTC), 202612),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), 999912),
    ],
)
def test_the_month_of_an_instant(runtime, instant: datetime, number: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        when = bindparam("when", instant, type_=UTCDateTime())
        value = session.scalar(select(month_number(when)))
    assert value == number
    assert isinstance(value, int)

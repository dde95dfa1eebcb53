"""Business-hours arithmetic for SLAs: "accept within 1 business hour" in the owner's
working hours and timezone. Pure: no clock, no session.

A working window is one span of wall-clock time per working day (``mon-fri 09:00-17:30``,
``nurture.handoff.team.WorkingHours``). Every window is turned into a pair of UTC instants
before anything is added or subtracted, because Python subtracts two aware datetimes of the
same zone by their wall clocks: across a DST change that is an hour wrong. So a day whose
window contains the change is as long as it really is (a 00:00-24:00 window on the spring
change lasts 23 hours), and the result is always an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A week with no working day cannot be configured (the team parser refuses it); the search
# still stops after this many days instead of looping forever on a bad value.
_MAX_DAYS = 3 * 366


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``clock`` on ``day`` in ``zone`` (24:00 is midnight of
    the next day)."""
    if clock == time.max:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        local = datetime.combine(day, clock, tzinfo=zone)
    return local.astimezone(UTC)


def windows(
    start: datetime, days: frozenset[int], opens: time, closes: time, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """The working windows (UTC open, UTC close) from the day of ``start`` on, in order."""
    if not days:
        return
    first = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_MAX_DAYS):
        day = first + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        begin, end = _instant(day, opens, zone), _instant(day, closes, zone)
        if end > begin:
            yield begin, end


def add_business_time(
    start: datetime,
    duration: timedelta,
    *,
    days: frozenset[int],
    opens: time,
    closes: time,
    zone: ZoneInfo,
) -> datetime:
    """The moment ``duration`` of working time after ``start`` (UTC). Time outside the
    windows does not count: one business hour from Friday 16:30 with 09:00-17:00 hours is
    Monday 09:30."""
    remaining = duration
    moment = start.astimezone(UTC)
    for begin, end in windows(moment, days, opens, closes, zone):
        if end <= moment:
            continue
        begin = max(begin, moment)
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError("no working time in the working hours")


def business_time_between(
    start: datetime,
    end: datetime,
    *,
    days: frozenset[int],
    opens: time,
    closes: time,
    zone: ZoneInfo,
) -> timedelta:
    """How much working time lies between ``start`` and ``end`` (zero if ``end`` is not
    after ``start``)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if end <= start:
        return total
    for begin, close in windows(start, days, opens, closes, zone):
        if begin >= end:
            break
        overlap = min(close, end) - max(begin, start)
        if overlap > timedelta(0):
            total += overlap
    return total

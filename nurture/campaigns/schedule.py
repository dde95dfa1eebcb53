"""Pure time rules: send windows, waits and frequency caps, in the lead's own timezone.

Every function takes ``now`` (an aware UTC datetime) and returns aware UTC datetimes; none
reads a clock. Local times are built with ``zoneinfo`` so daylight-saving changes are handled
the way the lead experiences them (a 10:00 email stays at 10:00 local across the change).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.campaigns.spec import FrequencyCap, SendWindow, WaitStep


@lru_cache(maxsize=1024)
def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    """The ZoneInfo for ``name``, falling back to ``default`` for unknown or empty names."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``clock`` on ``day`` in ``tz``.

    ``time.max`` stands for 24:00, the end of the day.
    """
    if clock == time.max:
        return datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return datetime.combine(day, clock, tz).astimezone(UTC)


def in_window(moment: datetime, window: SendWindow, tz: ZoneInfo) -> bool:
    """True when ``moment`` falls inside the window's days and hours, local to ``tz``."""
    local = moment.astimezone(tz)
    if local.weekday() not in window.days:
        return False
    start = _local(local.date(), window.start, tz)
    end = _local(local.date(), window.end, tz)
    return start <= moment < end


# Pure, and asked the same question for every enrolment of a batch (one ``now``, a
# campaign's window, a handful of timezones): a look-up instead of a dozen datetime
# conversions per email.
@lru_cache(maxsize=4096)
def next_window_opening(now: datetime, window: SendWindow, tz: ZoneInfo) -> datetime:
    """``now`` if it is inside the window, else the next moment the window opens."""
    if not window.days:
        raise ValueError("a send window needs at least one day")
    if in_window(now, window, tz):
        return now
    local_day = now.astimezone(tz).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        opening = _local(day, window.start, tz)
        if opening > now:
            return opening
    raise AssertionError("a window with at least one day always opens within 8 days")


def wait_until(started: datetime, step: WaitStep, tz: ZoneInfo) -> datetime:
    """When a wait that began at ``started`` ends.

    A duration is added first; then, if a weekday and/or a clock time is given, the wait
    runs on to the next such moment in the lead's timezone (the same day counts when that
    time is still ahead).
    """
    due = started + (step.duration or timedelta(0))
    if step.weekday is None and step.at is None:
        return due
    local = due.astimezone(tz)
    clock = step.at or time(0)
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        if step.weekday is not None and day.weekday() != step.weekday:
            continue
        candidate = _local(day, clock, tz)
        if candidate >= due:
            return candidate
    raise AssertionError("a weekday recurs within 15 days")


def cap_frees_at(recent_sends: Sequence[datetime], now: datetime, cap: FrequencyCap) -> datetime:
    """``now`` if one more email fits under the cap, else when the oldest counted email
    leaves the cap's period and makes room."""
    counted = sorted(sent for sent in recent_sends if sent > now - cap.per)
    if len(counted) < cap.max_emails:
        return now
    # The email that must age out is the one that keeps the count at the maximum.
    return counted[len(counted) - cap.max_emails] + cap.per


def quiet_hours_end(moment: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When the quiet hours ``start``–``end`` (wall clock in ``tz``) that contain
    ``moment`` end, or None when ``moment`` is outside them.

    Quiet hours may wrap midnight (``21:00``–``08:00``); ``end`` is exclusive.
    """
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    day = local.date()
    if start == end:
        return None
    if start < end:
        return _local(day, end, tz) if start <= clock < end else None
    if clock >= start:
        return _local(day + timedelta(days=1), end, tz)
    if clock < end:
        return _local(day, end, tz)
    return None

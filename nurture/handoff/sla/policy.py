"""The SLA policy and its pure rules: when a handoff is due, when the owner is reminded,
whether it was met, and how the deadline reads in an email. No clock, no session.

The policy comes from settings (``NURTURE_SLA_ACCEPT``, ``NURTURE_SLA_REMIND``,
``NURTURE_SLA_ESCALATE``); the working hours and timezone are the owner's, from the team
file, so "1 business hour" for a rep in Berlin counts Berlin office hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from nurture.handoff.sla.business_hours import add_business_time, business_time_between
from nurture.platform.policies import SlaPolicy

# Statuses of a handoff's SLA: pending until the owner responds or the deadline passes;
# void when the handoff was reassigned by hand before its deadline (nobody missed it).
STATUSES = ("pending", "met", "breached", "void")


@dataclass(frozen=True)
class Hours:
    """A working week in one timezone (the owner's, or the default for unowned leads)."""

    days: frozenset[int]
    opens: time
    closes: time
    zone: ZoneInfo

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return add_business_time(
            start, duration, days=self.days, opens=self.opens, closes=self.closes, zone=self.zone
        )

    def between(self, start: datetime, end: datetime) -> timedelta:
        return business_time_between(
            start, end, days=self.days, opens=self.opens, closes=self.closes, zone=self.zone
        )


@dataclass(frozen=True)
class Clock:
    """The deadline of one handoff and when its owner is reminded."""

    due_at: datetime
    remind_at: datetime | None


def clock_for(policy: SlaPolicy, hours: Hours, started: datetime) -> Clock:
    """The deadline counted in working time from ``started``; the reminder at its share of
    that working time (so a lead handed off on Friday evening is reminded on Monday, not
    on Saturday)."""
    due = hours.add(started, policy.accept_within)
    remind = None
    if policy.remind_at is not None:
        remind = hours.add(started, policy.accept_within * policy.remind_at)
        if remind >= due:
            remind = None
    return Clock(due_at=due, remind_at=remind)


@dataclass(frozen=True)
class Compliance:
    """The verdict on one response."""

    status: str  # met | breached
    seconds: float  # wall-clock time from handoff to response
    business_seconds: float  # working time in the owner's hours


def compliance(
    hours: Hours, started: datetime, due_at: datetime, responded: datetime
) -> Compliance:
    """Met when the owner responded by the deadline."""
    return Compliance(
        status="met" if responded <= due_at else "breached",
        seconds=max((responded - started).total_seconds(), 0.0),
        business_seconds=hours.between(started, responded).total_seconds(),
    )


def describe_deadline(due_at: datetime, zone: ZoneInfo, policy: SlaPolicy) -> str:
    """What the notification says after "accept or reject it": ``by Tue 3 Dec, 10:30
    (America/New_York time; 1 business hour)``."""
    local = due_at.astimezone(zone)
    day = f"{local:%a} {local.day} {local:%b}"
    return f"by {day}, {local:%H:%M} ({zone.key} time; {policy.describe()})"

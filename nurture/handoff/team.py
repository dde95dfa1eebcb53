"""The sales team file as frozen values: reps, regions, segments, assignment rules, reject
reasons, and working hours. Pure: no session, no clock.

``nurture.handoff.team_parser`` builds a :class:`Team` from YAML (with file:line problems);
``nurture.handoff.team_sync`` stores each valid version and mirrors the reps into
``sales_reps`` rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# What assignment rules may match a rep on.
MATCH_KEYS = ("territory", "segment")
FALLBACKS = ("round-robin", "unassigned")
# Stages a reject reason may send the lead to (see nurture.leads.lifecycle: mql → recycled is the
# normal way back to marketing; disqualified is for leads that must never come back).
REJECT_STAGES = ("recycled", "disqualified")


@dataclass(frozen=True)
class WorkingHours:
    """Days (Monday = 0) and one daily window, in the rep's timezone."""

    days: frozenset[int]
    start: time
    end: time
    text: str

    def describe(self, locale: str = "en", every_day: str = "every day") -> str:
        """``Mon–Fri 09:00–17:30`` for people, the days in ``locale``'s words (``pon.–pt.
        09:00–17:30`` in Polish); ``every_day`` is how the reader's language says that."""
        days = describe_days(self.days, locale, every_day)
        return f"{days} {self.start:%H:%M}–{_end_text(self.end)}"

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        """True when ``moment`` falls inside the working hours in ``zone``."""
        local = moment.astimezone(zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """``moment`` itself when working, else the start of the next working window (UTC
        aware result in ``zone``)."""
        if self.is_open(moment, zone):
            return moment
        local = moment.astimezone(zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            opening = datetime.combine(day, self.start, tzinfo=zone)
            if opening > local:
                return opening
        return local  # no working day at all: cannot happen with a parsed window


def day_labels(locale: str = "en") -> tuple[str, ...]:
    """Monday to Sunday, abbreviated in ``locale`` (Babel's names: ``Mon``, ``pon.``);
    English for a locale Babel does not know."""
    try:
        names = get_day_names("abbreviated", locale=Locale.parse(locale.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return WEEKDAY_LABELS
    return tuple(str(names[day]) for day in range(7))


def describe_days(days: frozenset[int], locale: str = "en", every_day: str = "every day") -> str:
    """``Mon–Fri``, ``Mon, Wed, Fri`` or ``every_day``, in ``locale``'s day names."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return every_day
    labels = day_labels(locale)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{labels[ordered[0]]}–{labels[ordered[-1]]}"
    return ", ".join(labels[day] for day in ordered)


def _end_text(end: time) -> str:
    return "24:00" if end == time.max else f"{end:%H:%M}"


@dataclass(frozen=True)
class Rep:
    """One salesperson as the file describes them."""

    email: str
    name: str
    timezone: str
    working_hours: WorkingHours
    title: str | None = None
    phone: str | None = None
    # As written (country codes and region names) and expanded to country codes.
    territories: tuple[str, ...] = ()
    countries: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    capacity: int | None = None
    out_of_office_until: date | None = None
    manager_email: str | None = None
    active: bool = True
    line: int = 0

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True)
class Segment:
    """Accounts with ``min_employees <= employees <= max_employees`` (either may be open)."""

    id: str
    min_employees: int | None = None
    max_employees: int | None = None
    description: str = ""
    line: int = 0

    def contains(self, employees: int | None) -> bool:
        if employees is None:
            return False
        if self.min_employees is not None and employees < self.min_employees:
            return False
        return self.max_employees is None or employees <= self.max_employees


@dataclass(frozen=True)
class AssignmentRule:
    """Leads the rule is for (``segments``/``countries``; None: any), what a rep must cover
    (``match``), and optionally a fixed pool of reps. Round-robin among the available
    reps it leaves."""

    id: str
    match: tuple[str, ...] = ()
    segments: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    reps: tuple[str, ...] = ()
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class RejectReason:
    """A reason sales may give back a lead for, and the stage the lead goes to."""

    id: str
    label: str
    stage: str = "recycled"


@dataclass(frozen=True)
class Contact:
    """Who a hand-raiser is told to contact when no rep is assigned yet."""

    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class Team:
    """The whole sales team file."""

    name: str
    manager_email: str
    contact: Contact
    reps: tuple[Rep, ...]
    reject_reasons: tuple[RejectReason, ...]
    regions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    rules: tuple[AssignmentRule, ...] = ()
    fallback: str = "round-robin"
    currency: str = "USD"
    link_expiry: timedelta = timedelta(days=14)
    description: str = ""
    checksum: str = ""
    source_path: str | None = None

    def segment_for(self, employees: int | None) -> str | None:
        """The first segment that contains an account of ``employees`` people."""
        return next((s.id for s in self.segments if s.contains(employees)), None)

    def reason(self, reason_id: str) -> RejectReason | None:
        """The reject reason called ``reason_id`` (case-insensitive), if configured."""
        wanted = (reason_id or "").strip().lower()
        return next((r for r in self.reject_reasons if r.id == wanted), None)

    def rep(self, email: str) -> Rep | None:
        """The rep with this email address, if in the file."""
        wanted = (email or "").strip().lower()
        return next((r for r in self.reps if r.email == wanted), None)

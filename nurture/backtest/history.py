"""A history to backtest on: past leads, what was known about them when, and how each
ended (pure values, and the one file format both history sources write).

A history lead has fields named the way the ICP reads them (``title``, ``account.industry``,
``attributes.budget``; aggregate-only facts such as "visits: 7" as the attributes
``history.<name>``, read as ``attributes.history.visits``), its human events (what the
scoring file scores), and its outcome. ``facts_at`` says when the aggregate facts were
known; before then the replay grades the lead without them.

The history file is gzip-compressed JSON lines: a header line, then one line per lead. It
is a snapshot the backtest reads on every run (``docs/backtest.md`` says why it is not a
table).
"""

from __future__ import annotations

import gc
import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nurture.scoring import EventFacts

FORMAT = "nurture-history"
VERSION = 1
# Where a lead's aggregate-only facts live among its attributes.
HISTORY_PREFIX = "history."
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class HistoryFileError(Exception):
    """A history file that cannot be read (not one, or damaged), with ``file:line``."""


@dataclass(frozen=True)
class Outcome:
    """How a lead ended: converted (when, for how much) or not (yet)."""

    converted: bool
    converted_at: datetime | None = None
    deal_value: float | None = None


@dataclass(frozen=True)
class HistoryLead:
    """One past lead: ``events`` are its human events, oldest first."""

    key: str
    created_at: datetime
    fields: Mapping[str, Any]
    outcome: Outcome
    events: tuple[EventFacts, ...] = ()
    facts_at: datetime | None = None

    @property
    def has_aggregates(self) -> bool:
        """True when some field is an aggregate-only fact (``attributes.history.*``)."""
        prefix = f"attributes.{HISTORY_PREFIX}"
        return any(name.startswith(prefix) for name in self.fields)


@dataclass(frozen=True)
class History:
    """Leads to backtest on, and where they came from."""

    leads: tuple[HistoryLead, ...]
    source: str = ""
    imported_at: datetime | None = None
    notes: tuple[str, ...] = field(default=())


def as_utc(moment: datetime) -> datetime:
    """``moment`` with a time zone: naive means UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _time(text: Any) -> datetime | None:
    return None if text is None else as_utc(datetime.fromisoformat(str(text)))


def _microseconds(moment: datetime) -> int:
    """``moment`` as whole microseconds since the epoch: exact, and read back much faster
    than ISO text (a history has millions of event times)."""
    return (as_utc(moment) - EPOCH) // timedelta(microseconds=1)


def lead_record(lead: HistoryLead) -> dict[str, Any]:
    """One lead as the plain data of a history file line."""
    return {
        "key": lead.key,
        "created_at": _iso(lead.created_at),
        "facts_at": _iso(lead.facts_at),
        "fields": dict(lead.fields),
        "converted": lead.outcome.converted,
        "converted_at": _iso(lead.outcome.converted_at),
        "deal_value": lead.outcome.deal_value,
        "events": [
            [
                event.type,
                _microseconds(event.occurred_at),
                dict(event.properties),
                event.campaign,
                event.template,
            ]
            for event in lead.events
        ],
    }


def lead_from_record(data: Mapping[str, Any]) -> HistoryLead:
    """A lead from a history file line's data (raises KeyError/ValueError/TypeError)."""
    events = tuple(
        EventFacts(
            id=number,
            type=str(kind),
            occurred_at=EPOCH + timedelta(microseconds=at),
            properties=properties or {},
            campaign=campaign,
            template=template,
        )
        for number, (kind, at, properties, campaign, template) in enumerate(data["events"], start=1)
    )
    created_at = _time(data["created_at"])
    if created_at is None:
        raise ValueError("created_at is missing")
    return HistoryLead(
        key=str(data["key"]),
        created_at=created_at,
        fields=dict(data["fields"]),
        outcome=Outcome(
            converted=bool(data["converted"]),
            converted_at=_time(data.get("converted_at")),
            deal_value=data.get("deal_value"),
        ),
        events=events,
        facts_at=_time(data.get("facts_at")),
    )


def write_history(path: Path, history: History) -> None:
    """Write ``history`` to ``path`` (replaced whole: a new file, then renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "source": history.source,
        "imported_at": _iso(history.imported_at),
        "leads": len(history.leads),
        "notes": list(history.notes),
    }
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=5) as stream:
        stream.write(json.dumps(header) + "\n")
        for lead in history.leads:
            stream.write(json.dumps(lead_record(lead), separators=(",", ":")) + "\n")
    partial.replace(path)


def read_history(path: Path) -> History:
    """The history written by ``write_history``; raises HistoryFileError with file:line."""
    if not path.is_file():
        raise HistoryFileError(f"{path}: no history file (write one with `nurture history import`)")
    # A history is millions of small objects, none in a reference cycle. Left on, the
    # cyclic collector walks every one of them again and again while they are made (half
    # the time of reading 100,000 leads, measured), and in every collection after; so it is
    # off while reading, and what was read is moved out of its generations (gc.freeze:
    # reference counting still frees it).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            lines = iter(stream)
            header = _header(path, next(lines, ""))
            leads = tuple(_leads(path, lines))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise HistoryFileError(f"{path}: not a readable history file ({exc})") from None
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return History(
        leads=leads,
        source=str(header.get("source") or ""),
        imported_at=_time(header.get("imported_at")),
        notes=tuple(str(note) for note in header.get("notes") or ()),
    )


def read_header(path: Path) -> dict[str, Any]:
    """The history file's first line (its source, import time and number of leads),
    without reading the leads; raises HistoryFileError with file:line."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            return _header(path, stream.readline())
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise HistoryFileError(f"{path}: not a readable history file ({exc})") from None


def _header(path: Path, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise HistoryFileError(f"{path}:1: not a history file written by `nurture history import`")
    if header.get("version") != VERSION:
        raise HistoryFileError(
            f"{path}:1: history file version {header.get('version')!r}; this Nurture reads "
            f"version {VERSION} (import the history again)"
        )
    return header


def _leads(path: Path, lines: Iterable[str]) -> Iterator[HistoryLead]:
    for number, line in enumerate(lines, start=2):
        try:
            yield lead_from_record(json.loads(line))
        except (KeyError, ValueError, TypeError) as exc:
            raise HistoryFileError(f"{path}:{number}: damaged lead record ({exc})") from None

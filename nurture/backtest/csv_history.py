"""History from CSV files: a leads file (attributes and outcome) and an optional events
file (lead key, type, time, properties), with a column mapping like the lead import's.

Columns are recognised by name — the lead fields through the lead import's synonyms
(``nurture.leads.header_synonyms``), the history's own columns (key, created, converted,
converted at, deal value, facts at) by the names below — or mapped by hand with
``--map "Column=target"``: a lead field, ``attributes.NAME``, ``history.NAME`` (an
aggregate-only fact such as visits or time on site, read by the ICP as
``attributes.history.NAME``), one of the history columns, or ``-`` to skip it.

A row that cannot be used is rejected with ``file:line`` and the reason; the others are
kept, and the counts say how many of each. Nothing is dropped without a line saying so.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nurture.backtest.history import HISTORY_PREFIX, History, HistoryLead, Outcome, as_utc
from nurture.files.problems import Problem
from nurture.leads.csv_columns import IGNORE_TARGET, is_target, normalise_header
from nurture.leads.fields import ACCOUNT_FILL
from nurture.leads.header_synonyms import normalise, target_for_header
from nurture.qualification.comparison import as_number
from nurture.scoring import EventFacts

# The history's own columns and the header names that mean them (normalised).
LEAD_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "key": ("key", "lead key", "lead id", "lead", "id", "external id"),
    "created_at": ("created at", "created", "created on", "created date", "first seen"),
    "converted": ("converted", "won", "outcome", "customer", "is customer", "closed won"),
    "converted_at": (
        "converted at",
        "converted on",
        "conversion date",
        "won at",
        "won on",
        "closed at",
        "close date",
    ),
    "deal_value": ("deal value", "deal amount", "deal size", "amount", "value", "revenue"),
    "facts_at": ("facts at", "as of", "snapshot at", "aggregates at"),
}
EVENT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "lead": ("lead", "lead key", "key", "lead id", "email", "e mail"),
    "type": ("type", "event", "event type", "activity"),
    "occurred_at": ("occurred at", "time", "timestamp", "at", "date", "when"),
    "properties": ("properties", "props", "data"),
}
_YES = frozenset({"yes", "y", "true", "1", "won", "converted", "customer", "tak"})
_NO = frozenset({"no", "n", "false", "0", "lost", "nie", ""})


class HistoryImportError(Exception):
    """The import cannot start: a file cannot be read, or the mapping cannot work."""


@dataclass
class CsvHistory:
    """What an import of CSV files read: the history, and every row it rejected."""

    history: History
    problems: list[Problem]
    columns: dict[str, str]
    ignored: list[str]
    lead_rows: int = 0
    event_rows: int = 0
    events_kept: int = 0
    notes: list[str] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (naive is UTC); ValueError with the text otherwise."""
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or time (2026-03-01T09:30)") from None


def _plan(
    header: list[str], mapping: Mapping[str, str], own: Mapping[str, tuple[str, ...]], what: str
) -> tuple[dict[int, str], list[str]]:
    """Column index → target, and the columns left out (by name)."""
    names = {
        normalise(spelling): target for target, spellings in own.items() for spelling in spellings
    }
    plan: dict[int, str] = {}
    by_header = {normalise(name): i for i, name in enumerate(header)}
    for column, target in mapping.items():
        index = by_header.get(normalise(column))
        if index is None:
            raise HistoryImportError(
                f"--map names column {column!r}, which the {what} file does not have; its "
                f"columns are: {', '.join(repr(h) for h in header)}"
            )
        plan[index] = target
    for index, name in enumerate(header):
        if index in plan:
            continue
        guess = names.get(normalise(name))
        if guess is None and what == "leads":
            guess = target_for_header(name)
        if guess is not None and guess not in plan.values():
            plan[index] = guess
    ignored = [header[i] or f"(column {i + 1})" for i in range(len(header)) if i not in plan]
    return {i: t for i, t in plan.items() if t != IGNORE_TARGET}, ignored


def _check_lead_targets(plan: Mapping[int, str], header: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, target in plan.items():
        ok = target in LEAD_COLUMNS or is_target(target)
        ok = ok or (target.startswith(HISTORY_PREFIX) and len(target) > len(HISTORY_PREFIX))
        if not ok:
            raise HistoryImportError(
                f"column {header[index]!r} → {target!r}: not a lead field; use a lead field, "
                f"attributes.NAME, history.NAME, one of {', '.join(LEAD_COLUMNS)}, or -"
            )
        if target in seen:
            raise HistoryImportError(
                f"columns {header[seen[target]]!r} and {header[index]!r} both map to {target!r}"
            )
        seen[target] = index
    if "key" not in seen and "email" not in seen:
        raise HistoryImportError(
            "no lead key: name the column that identifies a lead with --map 'Column=key' "
            f"(columns are: {', '.join(repr(h) for h in header)})"
        )
    if "created_at" not in seen:
        raise HistoryImportError(
            "no creation time: name the column with --map 'Column=created_at' (the replay "
            "starts each lead's timeline there)"
        )
    if "converted" not in seen and "converted_at" not in seen:
        raise HistoryImportError(
            "no outcome: name the converted (yes/no) or converted-at column with --map"
        )


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each row with the line it starts on; a file that is not CSV text stops the import."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream)
            line = 1
            try:
                for row in reader:
                    yield line, row
                    line = reader.line_num + 1
            except csv.Error as exc:
                raise HistoryImportError(f"{path}:{line}: not CSV ({exc})") from None
    except UnicodeDecodeError:
        raise HistoryImportError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise HistoryImportError(f"{path}: cannot be read ({exc.strerror})") from None


def read_csv_history(
    leads_path: Path,
    events_path: Path | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    event_mapping: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> CsvHistory:
    """Read a leads file (and an events file) into a History; bad rows are rejected with
    their file:line. Raises HistoryImportError when the files or the mapping cannot work."""
    rows = _rows(leads_path)
    first = next(rows, None)
    if first is None:
        raise HistoryImportError(f"{leads_path}: empty file (no header row)")
    header = first[1]
    plan, ignored = _plan(header, mapping or {}, LEAD_COLUMNS, "leads")
    _check_lead_targets(plan, header)
    problems: list[Problem] = []
    leads: dict[str, tuple[int, dict[str, Any]]] = {}
    count = 0
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        try:
            key, record = _lead_row(plan, header, row)
        except ValueError as exc:
            problems.append(Problem(str(leads_path), line, str(exc)))
            continue
        if key in leads:
            problems.append(
                Problem(str(leads_path), line, f"lead {key!r} repeats line {leads[key][0]}")
            )
            continue
        leads[key] = (line, record)
    events: dict[str, list[tuple[datetime, str, dict[str, Any]]]] = {}
    event_rows = kept = 0
    if events_path is not None:
        event_rows, kept = _read_events(events_path, event_mapping or {}, leads, events, problems)
    history_leads = []
    for key, (_, record) in leads.items():
        timeline = sorted(events.get(key, ()), key=lambda item: item[0])
        history_leads.append(
            HistoryLead(
                key=key,
                created_at=record["created_at"],
                fields=record["fields"],
                outcome=record["outcome"],
                events=tuple(
                    EventFacts(number, kind, at, properties)
                    for number, (at, kind, properties) in enumerate(timeline, start=1)
                ),
                facts_at=record["facts_at"],
            )
        )
    columns = {header[i]: target for i, target in plan.items()}
    source = f"csv:{leads_path.name}" + (f"+{events_path.name}" if events_path else "")
    history = History(tuple(history_leads), source=source, imported_at=now or datetime.now(UTC))
    return CsvHistory(history, problems, columns, ignored, count, event_rows, kept)


def _lead_row(
    plan: Mapping[int, str], header: list[str], row: list[str]
) -> tuple[str, dict[str, Any]]:
    if len(row) != len(header):
        raise ValueError(f"{len(row)} cells; the header has {len(header)}")
    values = {target: row[i].strip() for i, target in plan.items()}
    key = values.get("key") or values.get("email") or ""
    if not key:
        raise ValueError("no lead key")
    if not values.get("created_at"):
        raise ValueError("no creation time")
    created_at = parse_time(values["created_at"])
    converted_text = values.get("converted", "").casefold()
    if converted_text not in _YES and converted_text not in _NO:
        raise ValueError(f"converted is {values['converted']!r}: use yes or no")
    converted_at = parse_time(values["converted_at"]) if values.get("converted_at") else None
    converted = converted_text in _YES or ("converted" not in values and converted_at is not None)
    if converted and converted_at is None:
        raise ValueError("converted, but no conversion time (the replay stops there)")
    if not converted and converted_at is not None:
        raise ValueError(f"converted is {values['converted']!r}, but a conversion time is given")
    if converted_at is not None and converted_at < created_at:
        raise ValueError("converted before the lead was created")
    deal_value = None
    if values.get("deal_value"):
        deal_value = as_number(values["deal_value"])
        if deal_value is None or deal_value < 0:
            raise ValueError(f"deal value {values['deal_value']!r} is not an amount")
    facts_at = parse_time(values["facts_at"]) if values.get("facts_at") else None
    fields: dict[str, Any] = {}
    for target, value in values.items():
        if not value or target in LEAD_COLUMNS:
            continue
        if target.startswith(HISTORY_PREFIX):
            number = as_number(value)
            fields[f"attributes.{target}"] = value if number is None else number
        else:
            fields[target] = value
            if target in ACCOUNT_FILL:
                fields[f"account.{ACCOUNT_FILL[target]}"] = value
    record = {
        "created_at": created_at,
        "facts_at": facts_at,
        "fields": fields,
        "outcome": Outcome(converted, converted_at if converted else None, deal_value),
    }
    return key, record


def _read_events(
    path: Path,
    mapping: Mapping[str, str],
    leads: Mapping[str, Any],
    events: dict[str, list[tuple[datetime, str, dict[str, Any]]]],
    problems: list[Problem],
) -> tuple[int, int]:
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise HistoryImportError(f"{path}: empty file (no header row)")
    header = first[1]
    plan, _ = _plan(header, mapping, EVENT_COLUMNS, "events")
    for needed in ("lead", "type", "occurred_at"):
        if needed not in plan.values():
            raise HistoryImportError(
                f"{path}: no {needed} column: name it with --event-map 'Column={needed}' "
                f"(columns are: {', '.join(repr(h) for h in header)})"
            )
    # Every other column is a property of the event (url, form, ...), by its header.
    extra = {
        i: normalise_header(name)
        for i, name in enumerate(header)
        if i not in plan and normalise_header(name)
    }
    count = kept = 0
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        try:
            key, event = _event_row(plan, extra, header, row)
        except ValueError as exc:
            problems.append(Problem(str(path), line, str(exc)))
            continue
        if key not in leads:
            problems.append(
                Problem(str(path), line, f"no lead {key!r} in the leads file (or it was rejected)")
            )
            continue
        events.setdefault(key, []).append(event)
        kept += 1
    return count, kept


def _event_row(
    plan: Mapping[int, str], extra: Mapping[int, str], header: list[str], row: list[str]
) -> tuple[str, tuple[datetime, str, dict[str, Any]]]:
    if len(row) != len(header):
        raise ValueError(f"{len(row)} cells; the header has {len(header)}")
    values = {target: row[i].strip() for i, target in plan.items()}
    if not values["lead"]:
        raise ValueError("no lead key")
    if not values["type"]:
        raise ValueError("no event type")
    if not values["occurred_at"]:
        raise ValueError("no event time")
    at = parse_time(values["occurred_at"])
    properties: dict[str, Any] = {}
    if values.get("properties"):
        try:
            loaded = json.loads(values["properties"])
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict):
            raise ValueError("properties is not a JSON object")
        properties.update(loaded)
    for index, name in extra.items():
        if row[index].strip():
            properties[name] = row[index].strip()
    return values["lead"], (at, values["type"], properties)

"""The event types file (``NURTURE_EVENTS_FILE``, ``campaigns/events.yaml`` by default): the
team's own ``custom.NAME`` event types, each with what it means and, optionally, the only
properties it carries (docs/events.md, "Your own types")::

    types:
      custom.contract_signed:
        description: The contract was signed in the CRM
        properties: [plan, seats]
      custom.video_watched:
        description: A product video was played on the site

Without the file every ``custom.NAME`` is accepted, as before. With it, files and the events
API know only the custom types it declares, so a misspelt one fails validation at its line
with the closest declared name instead of never matching.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nurture.files.parser import Parser
from nurture.files.problems import Problem
from nurture.files.yaml_file import merge_problems, read_yaml_mapping
from nurture.files.yaml_lines import line_of, own_line
from nurture.platform.config import Settings
from nurture.platform.event_types import (
    ANY_CUSTOM,
    BUILT_IN_NAMES,
    CUSTOM_PREFIX,
    CUSTOM_RE,
    EventCatalogue,
    EventType,
)

TOP_FIELDS = ("description", "types")
TYPE_FIELDS = ("description", "properties")
PROPERTY_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EventTypesParser(Parser):
    """Reads an event types file."""

    def declared(self, data: Mapping[Any, Any]) -> EventCatalogue:
        """The declared types (the valid ones; each problem is recorded)."""
        self.fields(data, TOP_FIELDS, 1)
        declared: list[EventType] = []
        if not self.required(data, "types", 1, "the event types file"):
            return EventCatalogue((), self.path)
        types_line = line_of(data, "types", 1)
        types = self.mapping(data["types"], types_line, "types")
        for name, spec in (types or {}).items():
            line = line_of(types, name, types_line)
            event = self.declared_type(name, spec, line)
            if event is not None:
                declared.append(event)
        return EventCatalogue(tuple(declared), self.path)

    def declared_type(self, name: Any, spec: Any, line: int) -> EventType | None:
        """One declared type, or None (with a problem) when it is not valid."""
        if not isinstance(name, str) or not CUSTOM_RE.fullmatch(name):
            shown = str(name)
            if shown in BUILT_IN_NAMES:
                self.error(line, f"{shown!r} is a built-in type: it needs no declaring")
                return None
            guess = re.sub(r"[^a-z0-9_.-]", "_", shown.lower()).strip("_.-")
            hint = f" (e.g. {CUSTOM_PREFIX}{guess})" if guess else ""
            self.error(
                line,
                f"{shown!r} is not a custom type name: use {CUSTOM_PREFIX}NAME, lower case, "
                f"digits and _ . -{hint}",
            )
            return None
        spec = self.mapping(spec, line, name)
        if spec is None:
            return None
        line = own_line(spec, line)
        self.fields(spec, TYPE_FIELDS, line)
        description = None
        if self.required(spec, "description", line, name):
            description = self.text(
                spec["description"],
                line_of(spec, "description", line),
                "description",
                max_length=200,
            )
        properties: tuple[str, ...] | None = None
        if spec.get("properties") is not None:
            properties = self.property_names(
                spec["properties"], line_of(spec, "properties", line), name
            )
        if description is None:
            return None
        return EventType(name, description, properties)

    def property_names(self, value: Any, line: int, owner: str) -> tuple[str, ...] | None:
        """A list of property names (lower case, digits, ``_``)."""
        if not isinstance(value, list) or not value:
            self.error(line, f"{owner}.properties must be a list of property names")
            return None
        names: list[str] = []
        for item in value:
            if not isinstance(item, str) or not PROPERTY_RE.match(item):
                self.error(
                    line,
                    f"property name {item!r} may only use lower-case letters, digits and _",
                )
            elif item in names:
                self.error(line, f"property {item!r} is listed twice")
            else:
                names.append(item)
        return tuple(names)


@dataclass(frozen=True)
class CatalogueRead:
    """The catalogue a file gives, and the file's problems (its valid entries still count)."""

    catalogue: EventCatalogue
    problems: tuple[Problem, ...] = ()


def load_event_types_text(text: str, path: str | Path = "<events>") -> CatalogueRead:
    """Parse event types YAML ``text`` (``path`` names it in problems).

    A file with problems still declares its valid types: a typo in one entry must not make
    every custom type unknown. A file that is not a mapping declares none.
    """
    name = str(path)
    read = read_yaml_mapping(text, name, "an event types file must be a mapping (types)")
    if read.data is None:
        return CatalogueRead(EventCatalogue((), name), tuple(read.problems))
    parser = EventTypesParser(name)
    catalogue = parser.declared(read.data)
    return CatalogueRead(catalogue, tuple(merge_problems(read.problems, parser.problems)))


_cache: dict[Path, tuple[tuple[int, int], CatalogueRead]] = {}
_cache_lock = threading.Lock()


def read_event_catalogue(path: Path | None) -> CatalogueRead:
    """The event catalogue of the file at ``path``; every custom type when there is none.

    Cached per file until it changes on disk (the API reads it for every event).
    """
    if path is None:
        return CatalogueRead(ANY_CUSTOM)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return CatalogueRead(ANY_CUSTOM)
    except OSError as exc:
        problem = Problem(str(path), 0, f"cannot read file: {exc.strerror}")
        return CatalogueRead(EventCatalogue((), str(path)), (problem,))
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror
        problem = Problem(str(path), 0, f"cannot read file: {reason}")
        return CatalogueRead(EventCatalogue((), str(path)), (problem,))
    result = load_event_types_text(text, path)
    with _cache_lock:
        _cache[path] = (stamp, result)
    return result


def event_catalogue(settings: Settings) -> EventCatalogue:
    """The event catalogue of ``settings.events_file`` (its problems are left to the
    commands that check files: ``nurture campaigns validate`` shows them)."""
    return read_event_catalogue(settings.events_file).catalogue

"""Reading the costs file (pure): YAML text in, :class:`CostsFile` out, and every problem
with its file and line, never stopping at the first (docs/costs.md).

```yaml
currency: EUR
costs:
  - { month: 2026-01, source: webinar, amount: 1200.00, note: "Hosting and ads" }
  - { month: 2026-01, campaign: b2b-nurture, amount: 300 }
```

Whether a campaign key names a synced campaign is not the parser's to know: the sync
checks it and warns (``nurture.analytics.costs.sync``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from nurture.analytics.costs.entries import (
    CostEntry,
    CostFieldError,
    parse_currency,
    parse_entry,
)
from nurture.files.parser import Parser
from nurture.files.problems import Problem, ProblemsError
from nurture.files.yaml_file import FileLoad, load_yaml_text, read_file
from nurture.files.yaml_lines import line_of, own_line

TOP_FIELDS = ("currency", "costs")
ENTRY_FIELDS = ("month", "source", "campaign", "amount", "note")
# More entries than ten years of a hundred sources and campaigns is a generated file gone
# wrong; the app and the API take the rest.
MAX_ENTRIES = 12_000


@dataclass(frozen=True)
class FileEntry:
    """An entry of the file and the line it starts on."""

    entry: CostEntry
    line: int


@dataclass(frozen=True)
class CostsFile:
    """A valid costs file: its reporting currency and entries, in file order."""

    currency: str
    entries: tuple[FileEntry, ...]


class CostsError(ProblemsError):
    """Raised by :func:`parse_costs_data` when the data is not a valid costs file."""


@dataclass(frozen=True)
class CostsLoad(FileLoad[CostsFile]):
    """What loading one costs file gave: its contents when valid, and every problem."""

    @property
    def costs(self) -> CostsFile | None:
        """The file's contents (``value``) when valid."""
        return self.value


def load_costs_file(path: str | Path) -> CostsLoad:
    """Read and parse one costs file; an unreadable file is reported as a problem."""
    return read_file(path, load_costs_text, CostsLoad)


def load_costs_text(text: str, path: str | Path = "<costs>") -> CostsLoad:
    """Parse costs YAML ``text`` (``path`` names it in problems)."""
    name = str(path)

    def build(data: Mapping[Any, Any], _digest: str) -> tuple[CostsFile | None, list[Problem]]:
        parser = CostsParser(name)
        return parser.costs_file(data), parser.problems

    return load_yaml_text(
        text, name, "a costs file must be a mapping (currency, costs)", build, CostsLoad
    )


def parse_costs_data(data: Mapping[str, Any], source_path: str | None = None) -> CostsFile:
    """The contents of plain data (a stored version's spec). Raises CostsError."""
    parser = CostsParser(source_path or "<spec>")
    result = parser.costs_file(data)
    if parser.problems or result is None:
        raise CostsError(parser.problems)
    return result


class CostsParser(Parser):
    """Reads a whole costs file: the currency and each entry."""

    def costs_file(self, data: Mapping[Any, Any]) -> CostsFile | None:
        """The file's contents, or ``None`` when any problem was found."""
        line = own_line(data, 0)
        self.fields(data, TOP_FIELDS, line)
        currency = None
        if self.required(data, "currency", line, "the costs file"):
            try:
                currency = parse_currency(data["currency"])
            except ValueError as error:
                self.error(line_of(data, "currency", line), f"currency: {error}")
        entries: list[FileEntry] = []
        items = data.get("costs")
        if items is None:
            # A file with only a currency is valid: no costs (yet).
            items = []
        if not isinstance(items, list):
            self.error(line_of(data, "costs", line), "costs must be a list of entries")
            items = []
        if len(items) > MAX_ENTRIES:
            self.error(line_of(data, "costs", line), f"at most {MAX_ENTRIES} entries")
            items = []
        first_line: dict[tuple[date, str, str], int] = {}
        for index, item in enumerate(items):
            found = self.entry(item, line_of(items, index, line))
            if found is None:
                continue
            earlier = first_line.get(found.entry.key)
            if earlier is not None:
                self.error(
                    found.line,
                    f"duplicate entry for {found.entry.describe()}: line {earlier} already "
                    "sets it (add the amounts into one entry)",
                )
                continue
            first_line[found.entry.key] = found.line
            entries.append(found)
        if self.problems or currency is None:
            return None
        return CostsFile(currency, tuple(entries))

    def entry(self, item: Any, line: int) -> FileEntry | None:
        """One entry, every bad field reported at its own line."""
        mapping = self.mapping(item, line, "a cost entry")
        if mapping is None:
            return None
        line = own_line(mapping, line)
        self.fields(mapping, ENTRY_FIELDS, line)
        try:
            entry = parse_entry({name: mapping.get(name) for name in ENTRY_FIELDS})
        except CostFieldError as error:
            for name, why in error.errors.items():
                where = line_of(mapping, name, line)
                if why == "required":
                    self.error(where, f"missing field {name!r} in a cost entry")
                else:
                    self.error(where, f"{name}: {why}")
            return None
        return FileEntry(entry, line)

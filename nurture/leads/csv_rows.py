"""Reading a lead CSV file: its encoding and delimiter, its records, each row as lead
data, and the rejects file that takes the rows that cannot be imported."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from nurture.leads.csv_columns import LINE_COLUMN, REASON_COLUMN, ColumnPlan, LeadImportError
from nurture.leads.validation import LeadFields, validate_lead_data
from nurture.platform.addresses import normalise_email


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which is what Excel on Windows writes
    for "CSV (Comma delimited)". Decoding the whole file first means a bad byte is found
    before anything is imported."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise LeadImportError(f"{path} is neither UTF-8 nor Windows-1252 text: save it as UTF-8 CSV")


def detect_delimiter(sample: str) -> str:
    """The delimiter of the file that starts with ``sample``: comma, semicolon or tab."""
    first_line = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        # Too little to go on (e.g. one column): count candidates in the header line.
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_records(handle: IO[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, values) for each record, header included."""
    reader = csv.reader(handle, delimiter=delimiter, strict=False)
    line = 0
    for values in reader:
        start = line + 1
        line = reader.line_num
        if values:  # csv yields [] for an empty line: not a record
            yield start, values


class RejectsFile:
    """The rejects file, created on the first rejected row.

    When the input is itself a corrected rejects file, its old ``_line`` and ``_reason``
    columns are dropped, so the new file has exactly one of each.
    """

    def __init__(self, path: Path, header: list[str], delimiter: str) -> None:
        self.path = path
        self.keep = [i for i, name in enumerate(header) if name not in (LINE_COLUMN, REASON_COLUMN)]
        self.header = [header[i] for i in self.keep]
        self.width = len(header)
        self.delimiter = delimiter
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def write(self, line: int, values: list[str], reason: str) -> None:
        """Add one rejected row (its original values), with its line and the reason."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # utf-8-sig: Excel opens a UTF-8 CSV correctly only when it starts with a BOM.
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle, delimiter=self.delimiter)
            self._writer.writerow([*self.header, LINE_COLUMN, REASON_COLUMN])
        kept = [values[i] if i < len(values) else "" for i in self.keep]
        # Values beyond the header go after the reason: nothing is lost, the named columns
        # stay aligned, and the row is rejected again until someone fixes it.
        extra = values[self.width :]
        self._writer.writerow([*kept, line, reason, *extra])

    @property
    def used(self) -> bool:
        """True once a row was rejected (the file exists)."""
        return self._writer is not None

    def close(self) -> None:
        """Close the file, if it was opened."""
        if self._handle is not None:
            self._handle.close()


def _row_data(plan: ColumnPlan, values: list[str]) -> tuple[dict[str, Any], str | None]:
    """The mapping to validate for one row, or a reason the row cannot be read."""
    data: dict[str, Any] = {}
    for index, name in plan.fields.items():
        raw = values[index].strip() if index < len(values) else ""
        if not raw:
            continue
        if name == "attributes":
            try:
                parsed = json.loads(raw)
            except ValueError:
                return {}, 'attributes: not valid JSON (use a JSON object, e.g. {"plan": "pro"})'
            if not isinstance(parsed, dict):
                return {}, "attributes: must be a JSON object"
            data.setdefault("attributes", {}).update(parsed)
            continue
        data[name] = raw
    for index, key in plan.attributes.items():
        raw = values[index].strip() if index < len(values) else ""
        if raw:
            # CSV has no types: attribute values stay the text that was in the cell.
            data.setdefault("attributes", {})[key] = raw
    return data, None


def _format_errors(errors: Mapping[str, str]) -> str:
    return "; ".join(f"{name}: {reason}" for name, reason in errors.items())


class EmailMemo:
    """``normalise_email`` remembered for the length of one import.

    Every row is validated twice (once to find duplicates, once to import), and checking an
    address's syntax and domain is the most expensive part of validating a row.
    """

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def __call__(self, raw: object) -> str:
        if isinstance(raw, str):
            known = self.known.get(raw)
            if known is not None:
                return known
            self.known[raw] = normalised = normalise_email(raw)
            return normalised
        return normalise_email(raw)


def parse_row(
    plan: ColumnPlan, values: list[str], default_timezone: str, emails: EmailMemo
) -> tuple[LeadFields | None, str | None]:
    """(fields, None) for a valid row, (None, reason) for a rejected one, (None, None) for a
    blank one."""
    if not any(v.strip() for v in values):
        return None, None
    width = len(plan.header)
    if len(values) > width:
        extra = values[width:]
        return None, (
            f"row has {len(extra)} more value(s) than the header has columns "
            f"(extra: {', '.join(repr(v) for v in extra)})"
        )
    data, problem = _row_data(plan, values)
    if problem:
        return None, problem
    fields, errors = validate_lead_data(
        data, default_timezone=default_timezone, email_normaliser=emails
    )
    if fields is None:
        return None, _format_errors(errors)
    return fields, None

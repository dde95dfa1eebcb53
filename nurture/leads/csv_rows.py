"""Reading a lead CSV file: its encoding and delimiter, its records, each row as lead
data, and the rejects file that takes the rows that cannot be imported."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from nurture.leads.csv_columns import LINE_COLUMN, REASON_COLUMN, ColumnPlan, LeadImportError
from nurture.leads.validation import LeadFields, validate_lead_data
from nurture.platform.csv_safety import safe_row

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Single-byte encodings, most likely first: Windows-1252 is what Excel on Windows writes for
# "CSV (Comma delimited)" in Western Europe and the Americas, Windows-1250 in Central Europe
# (Polish, Czech, Hungarian…). Latin-1 decodes any byte and is only the last resort.
_SINGLE_BYTE = ("cp1252", "cp1250")
_SAMPLE = 1 << 16
# Images and documents people pick by mistake: PNG, JPEG, GIF, PDF.
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF")
# C0 and C1 control characters other than tab, line feed and carriage return: never in a
# text file, so text that decodes to them is binary or in another encoding.
_BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def detect_encoding(path: Path) -> str:
    """The file's text encoding: UTF-8 (with or without BOM), UTF-16 (with a BOM, or
    without one when every other byte of the start is zero), else Windows-1252 or
    Windows-1250, whichever reads as more plausible text, else Latin-1. Decoding the whole
    file first means a bad byte is found before anything is imported.

    Raises ``LeadImportError`` for a file that is not text (a spreadsheet, an image).
    """
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise LeadImportError(
            "it is a spreadsheet or archive (e.g. .xlsx, .xls), not a CSV file: save it as "
            "CSV first"
        )
    bom = next((encoding for mark, encoding in _BOMS if head.startswith(mark)), None)
    if bom is None:
        bom = _utf16_without_bom(head)
    if bom is not None:
        if bom.startswith("utf-16") and not _decodes(path, bom):
            raise LeadImportError("it starts like UTF-16 text but does not decode as it")
        return bom
    if head.startswith(_BINARY_MAGIC) or head.count(0) > max(2, len(head) // 100):
        # A stray NUL in a row is that row's problem; many of them make a binary file.
        raise LeadImportError("it is not a text file (it holds binary data)")
    if _decodes(path, "utf-8-sig"):
        return "utf-8-sig"
    decodable = [encoding for encoding in _SINGLE_BYTE if _decodes(path, encoding)]
    if decodable:
        # A tie keeps the first (Windows-1252): Western European text reads the same in both.
        return max(decodable, key=lambda enc: _plausibility(head.decode(enc, "replace")))
    if not _BINARY_RE.search(head.decode("latin-1")):
        return "latin-1"
    raise LeadImportError(
        "it is neither UTF-8 nor Windows-1252 text (nor UTF-16, Windows-1250 or "
        "Latin-1): save it as UTF-8 CSV"
    )


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a BOM: mostly ASCII text, so every other byte is zero."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                text = decoder.decode(chunk)
                if encoding.startswith("utf-16") and "\x00" in text:
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _plausibility(text: str) -> int:
    """How much ``text`` reads like words: accented letters count for it, symbols stuck to
    letters against it (Polish "Wałbrzych" read as Windows-1252 is "Wa³brzych")."""
    score = 0
    for i, ch in enumerate(text):
        if ord(ch) < 128:
            continue
        if ch.isalpha():
            score += 1
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if before.isalpha() or after.isalpha():
            score -= 3
    return score


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


class Record(NamedTuple):
    """One record of the file: its first physical line, its values, and why it cannot be
    read as a row (``None`` when it can)."""

    line: int
    values: list[str]
    problem: str | None = None


class _LineFeed:
    """The file's lines for the csv reader, keeping those of the record being read, so a
    record that turns out malformed can be read again from its second line."""

    def __init__(self, handle: IO[str]) -> None:
        self._source = iter(handle)
        self._replay: deque[str] = deque()
        self.current: list[str] = []
        self.exhausted = False

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self._replay:
            line = self._replay.popleft()
        else:
            try:
                line = next(self._source)
            except StopIteration:
                self.exhausted = True
                raise
        self.current.append(line)
        return line

    def replay(self, lines: list[str]) -> None:
        """Read ``lines`` again before the rest of the file."""
        self._replay.extendleft(reversed(lines))
        self.exhausted = False


NEVER_CLOSED = 'a quoted value starting on this line is never closed (a missing ")'
RUNS_INTO_ROWS = (
    "a quoted value starting on this line takes in the lines after it, which read as rows "
    'of their own (a missing ")'
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _spilled_quote(
    lines: list[str], values: list[str], width: int | None, delimiter: str, at_end: bool
) -> str | None:
    """Why a record read from ``lines`` is a quote left open rather than a row, or None.

    The csv module reads on through line ends while a quote is open, so one missing ``"``
    turns the rows after it into part of one value. Such a record is refused when the quote
    reaches the end of the file, when the quote is closed by a quote in a later row (a
    value goes on right after it, which a well-formed value never does), or when a line
    inside the quoted value has as many values as the header (``width``) and an address,
    and so reads as a row of its own. A value that legitimately spans lines (an address, a
    note) passes.
    """
    if len(lines) < 2 and not at_end:
        return None  # one line read whole: no quote was left open across a line end
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if at_end and "end of data" in str(exc):
            return NEVER_CLOSED
        if len(lines) > 1:
            return RUNS_INTO_ROWS
        return None
    if len(lines) < 2 or width is None:
        return None
    for value in values:
        for inner in _LINE_BREAK.split(value)[1:]:
            # Every row of a lead file has an address: a note's line with commas in it
            # ("Berlin, then Munich") is not taken for a row.
            if "@" in inner and len(_first_line_values(inner, delimiter)) >= width:
                return RUNS_INTO_ROWS
    return None


def _first_line_values(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, strict=False), [])


def read_records(handle: IO[str], delimiter: str) -> Iterator[Record]:
    """Every record of the file, header included.

    A quote that is never closed would make the csv module swallow the rows after it into
    one value, and they would vanish. Instead the line that opens it is returned with a
    problem (``_spilled_quote`` says when), and reading goes on from the next line; so is a
    line with a value longer than the csv module's limit.
    """
    feed = _LineFeed(handle)
    line = 0  # physical lines read before the current record
    width: int | None = None  # the header's number of values, once it is read
    while True:
        reader = csv.reader(feed, delimiter=delimiter, strict=False)
        while True:
            feed.current = []
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                lines = feed.current
                if not lines:
                    raise
                yield Record(
                    line + 1,
                    _first_line_values(lines[0], delimiter),
                    f"cannot be read: {exc} (a quote that is never closed?)",
                )
                line += 1
                feed.replay(lines[1:])
                break  # a fresh reader: the failed one is in an unknown state
            lines = feed.current
            start = line + 1
            problem = _spilled_quote(lines, values, width, delimiter, feed.exhausted)
            if problem is not None:
                yield Record(start, _first_line_values(lines[0], delimiter), problem)
                line += 1
                feed.replay(lines[1:])
                break
            line += len(lines)
            if values:  # csv yields [] for an empty line: not a record
                if width is None:
                    width = len(values)
                yield Record(start, values)


# Why a row of an erased person is rejected (its values are not kept), and what a kept
# rejected row says once the person in it is erased.
ERASED_ROW_REASON = "erased at the person's request"


class RejectSink(Protocol):
    """Where rejected rows go: the rejects file (the CLI) or an import job's table."""

    def write(self, line: int, values: list[str], reason: str) -> None:
        """Take one rejected row: its first line, its original values, the reason."""

    @property
    def used(self) -> bool:
        """True once a row was rejected."""

    def close(self) -> None:
        """No more rows come."""


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
            self._writer.writerow(safe_row([*self.header, LINE_COLUMN, REASON_COLUMN]))
        kept = [values[i] if i < len(values) else "" for i in self.keep]
        # Values beyond the header go after the reason: nothing is lost, the named columns
        # stay aligned, and the row is rejected again until someone fixes it.
        # Rejected values are whatever someone typed: a formula in them must not run when
        # the file is opened in a spreadsheet to fix it.
        extra = values[self.width :]
        self._writer.writerow(safe_row([*kept, line, reason, *extra]))

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


def parse_row(
    plan: ColumnPlan, values: list[str], default_timezone: str
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
    if len(values) < width:
        # A short row is most often half of a row split by a line break in an unquoted
        # value: importing it with empty fields would hide that the rest went elsewhere.
        return None, (
            f"row has {len(values)} value(s) but the header has {width} columns "
            f"(missing: {', '.join(repr(name) for name in plan.header[len(values) :])})"
        )
    data, problem = _row_data(plan, values)
    if problem:
        return None, problem
    fields, errors = validate_lead_data(data, default_timezone=default_timezone)
    if fields is None:
        return None, _format_errors(errors)
    return fields, None

"""CSV import of leads.

The file is read twice. The first pass only finds each row's email address, so that when an
address appears more than once the *last* row wins and the earlier ones are reported, not
imported and then overwritten. The second pass validates every row before anything touches
the database and upserts the valid ones in batches, one transaction per batch: an invalid
row is written to the rejects file and never aborts its batch.

Every row ends up counted exactly once: created, updated, unchanged, rejected, duplicate
(superseded by a later row) or blank.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nurture.leads.service import (
    ALLOWED_FIELDS,
    FREE_MAIL_DOMAINS,
    LAWFUL_BASES,
    LeadFields,
    UpsertResult,
    normalise_email,
    upsert_leads,
    validate_lead_data,
)
from nurture.platform.db import transaction

EXTRA_COLUMN_MODES = ("ignore", "attributes")
# Columns the rejects file adds; a corrected rejects file can be imported as it is.
LINE_COLUMN = "_line"
REASON_COLUMN = "_reason"
# ``--map "Notes=-"`` drops a column on purpose (it is then not reported as ignored).
IGNORE_TARGET = "-"
_ATTRIBUTE_PREFIX = "attributes."
_SNIFF_BYTES = 64 * 1024

# Header spellings seen in CRM and spreadsheet exports, after normalisation (lower case,
# runs of other characters turned into "_"). Every field name also maps to itself.
HEADER_ALIASES: dict[str, str] = {
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "mail": "email",
    "work_email": "email",
    "business_email": "email",
    "firstname": "first_name",
    "first": "first_name",
    "given_name": "first_name",
    "forename": "first_name",
    "lastname": "last_name",
    "last": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "job_title": "title",
    "jobtitle": "title",
    "position": "title",
    "phone_number": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "time_zone": "timezone",
    "language": "locale",
    "lead_source": "source",
    "lifecycle_stage": "stage",
    "legal_basis": "lawful_basis",
    "consent_date": "consent_at",
    "consented_at": "consent_at",
    "company_name": "company",
    "organization": "company",
    "organisation": "company",
    "account_name": "company",
    "domain": "company_domain",
    "website": "company_domain",
    "company_website": "company_domain",
    "number_of_employees": "employees",
    "employee_count": "employees",
    "headcount": "employees",
    "revenue": "annual_revenue",
    "country_code": "country",
}


class LeadImportError(Exception):
    """The import cannot start: the file cannot be read, or the column mapping is wrong."""


@dataclass
class ImportSummary:
    """What an import did. ``rows_read`` = the sum of the six row outcomes."""

    path: Path
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # Rows whose email appears again later in the file: the later row was imported.
    duplicates: int = 0
    # (line of the skipped row, line of the row imported instead), in file order.
    duplicate_lines: list[tuple[int, int]] = field(default_factory=list)
    # Rows without a single value.
    blank: int = 0
    accounts_created: int = 0
    # Existing leads whose stage an explicit stage column changed.
    stage_changes: int = 0
    # Rows with company data but no account (free-mail address, no company_domain column).
    unlinked_companies: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    # Remarks about the columns (e.g. two columns that both look like the email).
    notes: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.rows_read} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected, "
            f"{self.duplicates} duplicate, {self.blank} blank"
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for printing and JSON."""
        return {
            "path": str(self.path),
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "duplicate_lines": [list(pair) for pair in self.duplicate_lines],
            "blank": self.blank,
            "accounts_created": self.accounts_created,
            "stage_changes": self.stage_changes,
            "unlinked_companies": self.unlinked_companies,
            "columns": dict(self.columns),
            "ignored_columns": list(self.ignored_columns),
            "notes": list(self.notes),
            "rejects_path": None if self.rejects_path is None else str(self.rejects_path),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "seconds": round(self.seconds, 3),
        }


def normalise_header(header: str) -> str:
    """``"E-mail Address "`` → ``"e_mail_address"``."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def parse_mapping(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse ``["Work Email=email", "Plan=attributes.plan"]`` into ``{column: target}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise LeadImportError(f"bad mapping {pair!r}: use 'Column name=field'")
        mapping[column.strip()] = target.strip()
    return mapping


@dataclass
class _Plan:
    """How each column of the file becomes lead data."""

    header: list[str]
    # Column index -> lead field ("attributes" means a JSON object in the cell).
    fields: dict[int, str]
    # Column index -> custom attribute key.
    attributes: dict[int, str]
    ignored: list[str]

    def describe(self) -> dict[str, str]:
        described = {self.header[i]: name for i, name in self.fields.items()}
        described.update({self.header[i]: f"attributes.{k}" for i, k in self.attributes.items()})
        return described


def _plan_columns(
    header: list[str], mapping: Mapping[str, str], extra_columns: str
) -> tuple[_Plan, list[str]]:
    """Assign every column a field, an attribute, or nothing. Returns the plan and notes."""
    notes: list[str] = []
    by_name = {name: i for i, name in enumerate(header)}
    by_normalised: dict[str, int] = {}
    for i, name in enumerate(header):
        by_normalised.setdefault(normalise_header(name), i)

    explicit: dict[int, str] = {}
    for column, target in mapping.items():
        index = by_name.get(column)
        if index is None:
            index = by_normalised.get(normalise_header(column))
        if index is None:
            raise LeadImportError(
                f"--map names column {column!r}, which the file does not have; its columns "
                f"are: {', '.join(repr(h) for h in header)}"
            )
        if not (
            target in ALLOWED_FIELDS
            or target == IGNORE_TARGET
            or (target.startswith(_ATTRIBUTE_PREFIX) and len(target) > len(_ATTRIBUTE_PREFIX))
        ):
            raise LeadImportError(
                f"--map {column}={target}: {target!r} is not a lead field; use one of "
                f"{', '.join(ALLOWED_FIELDS)}, attributes.<name>, or - to skip the column"
            )
        explicit[index] = target

    fields: dict[int, str] = {}
    attributes: dict[int, str] = {}
    ignored: list[str] = []
    taken: dict[str, int] = {}
    for index, target in explicit.items():
        if target == IGNORE_TARGET:
            continue
        if target.startswith(_ATTRIBUTE_PREFIX):
            attributes[index] = target.removeprefix(_ATTRIBUTE_PREFIX)
            continue
        if target in taken:
            raise LeadImportError(
                f"columns {header[taken[target]]!r} and {header[index]!r} are both mapped to "
                f"{target!r}"
            )
        taken[target] = index
        fields[index] = target

    unmapped: list[int] = []
    for index, name in enumerate(header):
        if index in explicit or name in (LINE_COLUMN, REASON_COLUMN):
            continue
        key = normalise_header(name)
        target = key if key in ALLOWED_FIELDS else HEADER_ALIASES.get(key)
        if target is None:
            unmapped.append(index)
        elif target in taken:
            notes.append(
                f"column {name!r} also looks like {target!r}; column "
                f"{header[taken[target]]!r} is used (choose with --map)"
            )
            unmapped.append(index)
        else:
            taken[target] = index
            fields[index] = target

    for index in unmapped:
        name = header[index]
        key = normalise_header(name)
        if extra_columns == "attributes" and key:
            if len(key) > 64:
                raise LeadImportError(f"column {name!r} is too long to be an attribute name")
            if key in attributes.values():
                raise LeadImportError(f"two columns become attribute {key!r}; name one with --map")
            attributes[index] = key
        else:
            ignored.append(name or f"(unnamed column {index + 1})")

    if "email" not in taken:
        raise LeadImportError(
            "no email column: name one with --map 'Column name=email' (columns are: "
            + ", ".join(repr(h) for h in header)
            + ")"
        )
    return _Plan(header=header, fields=fields, attributes=attributes, ignored=ignored), notes


def _detect_encoding(path: Path) -> str:
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


def _detect_delimiter(sample: str) -> str:
    first_line = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        # Too little to go on (e.g. one column): count candidates in the header line.
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _records(handle: IO[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, values) for each record, header included."""
    reader = csv.reader(handle, delimiter=delimiter, strict=False)
    line = 0
    for values in reader:
        start = line + 1
        line = reader.line_num
        if values:  # csv yields [] for an empty line: not a record
            yield start, values


class _Rejects:
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
        return self._writer is not None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _row_data(plan: _Plan, values: list[str]) -> tuple[dict[str, Any], str | None]:
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


class _EmailMemo:
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


def _parse_row(
    plan: _Plan, values: list[str], default_timezone: str, emails: _EmailMemo
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


def import_leads_csv(
    session_factory: sessionmaker[Session],
    path: str | Path,
    *,
    now: datetime,
    mapping: Mapping[str, str] | None = None,
    rejects_path: str | Path | None = None,
    default_timezone: str = "UTC",
    source: str = "csv",
    progress: bool = True,
    batch_size: int = 500,
    extra_columns: str = "ignore",
    consent_basis: str | None = None,
    free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS,
) -> ImportSummary:
    """Import leads from a CSV file; return what happened.

    ``mapping`` maps column names to fields (``email``, ``attributes.plan``, or ``-`` to skip)
    and overrides the automatic header recognition. Rejected rows go to ``rejects_path`` — by
    default ``<file>.rejects.csv`` beside the input — with their original values plus
    ``_line`` and ``_reason``. When an email appears on several rows the last valid one is
    imported and the others are listed in ``duplicate_lines``.
    ``extra_columns="attributes"`` imports unrecognised columns as custom attributes;
    ``"ignore"`` lists them in the summary. ``consent_basis`` is the lawful basis recorded
    for leads that have none. Raises ``LeadImportError`` when the import cannot start.
    """
    started = time.perf_counter()
    path = Path(path)
    if extra_columns not in EXTRA_COLUMN_MODES:
        raise LeadImportError(f"extra_columns must be one of {', '.join(EXTRA_COLUMN_MODES)}")
    if consent_basis is not None and consent_basis not in LAWFUL_BASES:
        raise LeadImportError(f"consent basis must be one of {', '.join(LAWFUL_BASES)}")
    if batch_size < 1:
        raise LeadImportError("batch_size must be at least 1")
    defaults = {"lawful_basis": consent_basis} if consent_basis else {}
    rejects_file = (
        Path(rejects_path) if rejects_path else path.with_name(f"{path.stem}.rejects.csv")
    )
    if rejects_file.resolve() == path.resolve():
        raise LeadImportError("the rejects file must not be the file being imported")

    try:
        encoding = _detect_encoding(path)
        with path.open(encoding=encoding, newline="") as handle:
            delimiter = _detect_delimiter(handle.read(_SNIFF_BYTES))
            handle.seek(0)
            records = _records(handle, delimiter)
            header_record = next(records, None)
            if header_record is None:
                raise LeadImportError(f"{path} is empty: the first line must name the columns")
            header = [name.strip() for name in header_record[1]]
            duplicates = sorted({h for h in header if h and header.count(h) > 1})
            if duplicates:
                raise LeadImportError(f"{path}: duplicate column names {duplicates}")
            plan, notes = _plan_columns(header, mapping or {}, extra_columns)
            # Pass 1: the last valid row of every email address (and the total for the
            # progress bar). An invalid later row does not displace an earlier valid one.
            emails = _EmailMemo()
            last_row: dict[str, tuple[int, int]] = {}
            total = 0
            for number, (line, values) in enumerate(records):
                total += 1
                fields, _ = _parse_row(plan, values, default_timezone, emails)
                if fields is not None:
                    last_row[fields.email] = (number, line)
    except OSError as exc:
        raise LeadImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except csv.Error as exc:
        raise LeadImportError(f"{path} is not a readable CSV file: {exc}") from exc

    summary = ImportSummary(
        path=path,
        columns=plan.describe(),
        ignored_columns=plan.ignored,
        notes=notes,
        encoding=encoding,
        delimiter=delimiter,
    )
    rejects = _Rejects(rejects_file, header, delimiter)
    batch: list[tuple[int, list[str], LeadFields]] = []

    def flush() -> None:
        _import_batch(
            session_factory,
            batch,
            summary,
            rejects,
            now=now,
            source=source,
            defaults=defaults,
            free_mail_domains=free_mail_domains,
        )
        batch.clear()

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("importing {task.fields[name]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (progress and console.is_terminal),
    )
    try:
        with bar, path.open(encoding=encoding, newline="") as handle:
            task = bar.add_task("import", total=total, name=path.name)
            records = _records(handle, delimiter)
            next(records)  # the header
            for number, (line, values) in enumerate(records):
                summary.rows_read += 1
                if number % 200 == 0:
                    bar.update(task, completed=number)
                fields, reason = _parse_row(plan, values, default_timezone, emails)
                if fields is None:
                    if reason is None:
                        summary.blank += 1
                    else:
                        summary.rejected += 1
                        rejects.write(line, values, reason)
                    continue
                # (A row missing from pass 1 means the file changed in between: import it.)
                last_number, last_line = last_row.get(fields.email, (number, line))
                if last_number != number:
                    # Reported, but not written to the rejects file: that file is for rows
                    # to fix and import again, and importing this one would overwrite the
                    # newer row's values with older ones.
                    summary.duplicates += 1
                    summary.duplicate_lines.append((line, last_line))
                    continue
                batch.append((line, values, fields))
                if len(batch) >= batch_size:
                    flush()
            if batch:
                flush()
            bar.update(task, completed=total)
    finally:
        rejects.close()

    if rejects.used:
        summary.rejects_path = rejects_file
    summary.ignored_columns = plan.ignored
    summary.seconds = time.perf_counter() - started
    return summary


def _count(summary: ImportSummary, result: UpsertResult) -> None:
    if result.created:
        summary.created += 1
    elif result.changed:
        summary.updated += 1
        summary.stage_changes += result.stage_change is not None
    else:
        summary.unchanged += 1
    summary.accounts_created += result.account_created
    summary.unlinked_companies += result.unlinked_company


def _import_batch(
    session_factory: sessionmaker[Session],
    batch: list[tuple[int, list[str], LeadFields]],
    summary: ImportSummary,
    rejects: _Rejects,
    *,
    now: datetime,
    source: str,
    defaults: Mapping[str, Any],
    free_mail_domains: frozenset[str],
) -> None:
    """Upsert one batch in one transaction.

    Rows were validated already, so the database refuses a batch only when something
    changed under the import (another process created the same lead or account a moment
    earlier). Then every row is retried in its own transaction, and a row the database still
    refuses is rejected with the database's reason: the rest of the batch is still imported.
    """
    items = [fields for _, _, fields in batch]
    try:
        with transaction(session_factory) as session:
            results = upsert_leads(
                session,
                items,
                now=now,
                source=source,
                defaults=defaults,
                free_mail_domains=free_mail_domains,
            )
    except IntegrityError:
        pass
    else:
        for result in results:
            _count(summary, result)
        return
    for line, values, fields in batch:
        try:
            with transaction(session_factory) as session:
                (result,) = upsert_leads(
                    session,
                    [fields],
                    now=now,
                    source=source,
                    defaults=defaults,
                    free_mail_domains=free_mail_domains,
                )
        except IntegrityError as exc:
            summary.rejected += 1
            rejects.write(line, values, f"the database refused the row: {exc.orig}")
        else:
            _count(summary, result)

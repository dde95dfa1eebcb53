"""Erasing a person from what lead imports keep: the uploaded files of imports that are not
over (waiting for their mapping, queued, running or interrupted), the rejected rows every
job keeps, and the first rows the mapping page shows.

A stored file is rewritten (a new file renamed over the old one, so a reader sees either
file whole) with each of the person's records replaced by an empty record on as many lines:
an import that has counted the file's rows, or resumes after its last committed batch, finds
every other row at the same place and line, and counts the emptied one as blank. A file
without the address is not written at all.

The jobs' rows are locked first (``FOR UPDATE``; SQLite runs one writer at a time anyway):
two erasures never rewrite one file at once, a job that ends waits to delete its file until
the erasure is committed, and a batch of a running job waits for the erasure, then rejects
the person's row (``nurture.leads.csv_import``) if it read the file before it was rewritten.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from nurture.leads.csv_rows import ERASED_ROW_REASON, read_records
from nurture.leads.import_jobs import stored_path
from nurture.models import ImportJob, ImportReject

# Characters that may sit right before or after an address inside a longer one: a match
# must not have them there ("al@acme.example" is not in "hal@acme.example").
_BEFORE = r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
_AFTER = r"(?![\w-]|\.[\w-])"


@dataclass(frozen=True)
class ImportErasure:
    """What an erasure removed from lead imports (counts only): how many imports held the
    address, and the rows emptied in their stored files, rejected rows and previews."""

    imports: int = 0
    file_rows: int = 0
    rejected_rows: int = 0
    preview_rows: int = 0

    @property
    def rows(self) -> int:
        """Every row removed or emptied."""
        return self.file_rows + self.rejected_rows + self.preview_rows

    def as_dict(self) -> dict[str, int]:
        """Plain values, for the audit log and JSON."""
        return asdict(self)


def address_pattern(email: str) -> re.Pattern[str]:
    """What finds the normalised address ``email`` in text (pure): in any letter case, with
    its domain as stored (IDNA) or in Unicode, and not as a part of a longer address."""
    local, _, domain = email.rpartition("@")
    spellings = {email}
    # A domain that is not valid IDNA has only its stored spelling.
    with contextlib.suppress(UnicodeError):
        spellings.add(f"{local}@{domain.encode('ascii').decode('idna')}")
    alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
    return re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}", re.IGNORECASE)


def holds_address(values: Iterable[object], pattern: re.Pattern[str]) -> bool:
    """True when one of ``values`` contains the address ``pattern`` finds (pure)."""
    return any(pattern.search(str(value)) for value in values)


def erase_from_imports(session: Session, email: str, *, instance_path: Path) -> ImportErasure:
    """Remove every row that holds ``email`` (normalised) from what lead imports keep, in
    the caller's transaction; returns the counts.

    Stored files are rewritten at once (a rolled-back erasure does not bring the row back:
    it was the person's to remove); the kept rejected rows keep their line, so the job's
    counts still add up, and lose their values and reason.
    """
    pattern = address_pattern(email)
    needle = _ascii_needle(email)
    jobs: set[int] = set()
    file_rows = 0
    with_files = session.scalars(
        select(ImportJob)
        .where(ImportJob.stored_name.is_not(None))
        .order_by(ImportJob.id)
        .with_for_update()
    ).all()
    for job in with_files:
        path = stored_path(instance_path, job)
        if path is None:
            continue
        try:
            emptied, size = _empty_records(path, job.encoding, job.delimiter, pattern)
        except UnicodeDecodeError:
            # Changed on disk since it was uploaded: it could not be imported either, and
            # what it holds cannot be checked. It goes, and the job says why.
            path.unlink(missing_ok=True)
            job.stored_name = None
            job.error = "its file could not be read when a person was erased; upload it again"
            jobs.add(job.id)
            continue
        if emptied:
            file_rows += emptied
            job.size_bytes = size
            jobs.add(job.id)

    rejected_rows = 0
    holding = func.lower(cast(ImportReject.values, Text)).contains(needle, autoescape=True)
    in_reason = func.lower(ImportReject.reason).contains(needle, autoescape=True)
    for reject in session.scalars(select(ImportReject).where(holding | in_reason)):
        if holds_address([*reject.values, reject.reason], pattern):
            reject.values, reject.reason = [], ERASED_ROW_REASON
            rejected_rows += 1
            jobs.add(reject.job_id)

    preview_rows = 0
    in_preview = func.lower(cast(ImportJob.preview, Text)).contains(needle, autoescape=True)
    for job in session.scalars(select(ImportJob).where(in_preview)):
        kept = [row for row in job.preview if not holds_address(row, pattern)]
        if len(kept) < len(job.preview):
            preview_rows += len(job.preview) - len(kept)
            job.preview = kept
            jobs.add(job.id)
    return ImportErasure(len(jobs), file_rows, rejected_rows, preview_rows)


def _ascii_needle(email: str) -> str:
    """A piece of the address that every spelling of it has, as JSON text stores it (JSON
    escapes other characters): the whole address, or its local part when the domain has
    a Unicode spelling too; only "@" when the local part itself is not ASCII."""
    local, _, domain = email.rpartition("@")
    if not local.isascii():
        return "@"
    if any(label.startswith("xn--") for label in domain.split(".")):
        return f"{local}@"
    return email


def _empty_records(
    path: Path, encoding: str, delimiter: str, pattern: re.Pattern[str]
) -> tuple[int, int]:
    """Empty the data records of the file that hold the address; returns how many, and the
    file's new size. The header and every other byte stay as they were."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0, 0
    text = raw.decode(encoding)
    if pattern.search(text) is None:
        return 0, len(raw)
    # Lines and records exactly as the import reads them (newline="": \r, \n and \r\n
    # end a line and stay in it).
    lines = io.StringIO(text, newline="").readlines()
    records = list(read_records(io.StringIO(text, newline=""), delimiter))
    if not records:
        return 0, len(raw)
    # A blank row as spreadsheets write one (only separators), so the file looks as it did;
    # with one column, a quoted empty value (an empty line is not a row at all).
    width = len(records[0].values)
    blank = delimiter * (width - 1) if width > 1 else '""'
    starts = [record.line - 1 for record in records]
    ends = [*starts[1:], len(lines)]
    emptied = 0
    for start, end in list(zip(starts, ends, strict=True))[1:]:
        if pattern.search("".join(lines[start:end])) is None:
            continue
        endings = [line[len(line.rstrip("\r\n")) :] for line in lines[start:end]]
        lines[start:end] = [blank + endings[0], *endings[1:]]
        emptied += 1
    if not emptied:
        return 0, len(raw)
    data = _encode("".join(lines), encoding, raw)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return emptied, len(data)


def _encode(text: str, encoding: str, original: bytes) -> bytes:
    """``text`` in the file's encoding, with the byte order mark the file had (decoding
    dropped it; "utf-8-sig" reads files with and without one)."""
    if encoding == "utf-8-sig":
        bom = codecs.BOM_UTF8 if original.startswith(codecs.BOM_UTF8) else b""
        return bom + text.encode("utf-8")
    if encoding == "utf-16":
        if original.startswith(codecs.BOM_UTF16_BE):
            return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)

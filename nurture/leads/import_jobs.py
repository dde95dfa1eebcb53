"""Import jobs: a lead file uploaded through the web app, imported by the same use case as
``nurture leads import`` (``import_leads_csv``) once a person has mapped its columns.

The life of a job: ``create_job`` keeps the upload in the instance folder (``imports/``) and
reads its encoding, delimiter, header and first rows; ``start_job`` checks and records the
mapping and the consent basis; ``run_job`` imports it, committing batch by batch, and each
batch's transaction also records the job's progress, counts and rejected rows, so whatever
happens the job never counts a row that is not in the database, nor misses one that is.

When the process running a job dies, its heartbeat stops: ``recover_interrupted`` marks it
``interrupted`` and ``resume_job`` carries on after the last committed batch. The stored
file is deleted once the import is over (done, failed or cancelled); the rejected rows stay
with the job until it is deleted. Erasing a person empties their rows in all of these
(``nurture.leads.import_erasure``); every transaction that deletes a job's file, and every
batch, locks the job's row first, so none of them overlaps an erasure.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from nurture.leads.csv_columns import IGNORE_TARGET, LeadImportError, is_target, plan_columns
from nurture.leads.csv_import import RESUMABLE_BREAKDOWN, RESUMABLE_COUNTS, import_leads_csv
from nurture.leads.csv_rows import (
    detect_delimiter,
    detect_encoding,
    read_records,
)
from nurture.leads.fields import LAWFUL_BASES
from nurture.leads.import_rejects import JobRejects
from nurture.leads.import_summary import BATCH_CONSENT_STATUSES, ImportSummary
from nurture.models import ImportJob, ImportReject
from nurture.platform.db import transaction, utcnow

log = logging.getLogger(__name__)

IMPORTS_FOLDER = "imports"
PREVIEW_ROWS = 10
PREVIEW_CELL = 200
MAX_COLUMNS = 300
MAX_HEADER_NAME = 200
# A running job that has not written progress for this long was interrupted.
STALE_AFTER = timedelta(minutes=5)
OPEN_STATUSES = ("queued", "running")
RESUMABLE_STATUSES = ("interrupted",)
# Jobs that are over: their stored file is deleted.
FINISHED_STATUSES = ("done", "failed", "cancelled")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class ImportCancelled(Exception):
    """Someone asked to stop the job; the batch in hand is rolled back."""


# ---------------------------------------------------------------- upload


def imports_folder(instance_path: Path) -> Path:
    """Where uploaded files are kept until their import is over."""
    return instance_path / IMPORTS_FOLDER


def stored_path(instance_path: Path, job: ImportJob) -> Path | None:
    """The job's stored file, or None once it is deleted."""
    return imports_folder(instance_path) / job.stored_name if job.stored_name else None


def clean_file_name(name: str | None) -> str:
    """The uploaded file's name as shown: no folders, no control characters, 255 at most."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _CONTROL_RE.sub("", base).strip()
    return (base or "upload.csv")[:255]


def create_job(
    session: Session,
    *,
    instance_path: Path,
    stream: IO[bytes],
    file_name: str | None,
    user_id: int | None,
    now: datetime,
    max_bytes: int,
) -> ImportJob:
    """Keep an uploaded file and read what the mapping page needs; raises
    ``LeadImportError`` (nothing kept) when it is empty, too big or not a CSV file."""
    folder = imports_folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_hex(16)}.csv"
    path = folder / stored
    try:
        size = _save(stream, path, max_bytes)
        if size == 0:
            raise LeadImportError("the file is empty")
        encoding = detect_encoding(path)
        header, preview, delimiter = _read_start(path, encoding)
    except LeadImportError:
        path.unlink(missing_ok=True)
        raise
    except (OSError, UnicodeError) as exc:
        path.unlink(missing_ok=True)
        raise LeadImportError(f"the file cannot be read: {type(exc).__name__}") from exc
    job = ImportJob(
        user_id=user_id,
        file_name=clean_file_name(file_name),
        stored_name=stored,
        size_bytes=size,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        preview=preview,
        status="uploaded",
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def _save(stream: IO[bytes], path: Path, max_bytes: int) -> int:
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise LeadImportError(f"the file is larger than {max_bytes} bytes")
            out.write(chunk)
    return size


def _read_start(path: Path, encoding: str) -> tuple[list[str], list[list[str]], str]:
    with path.open(encoding=encoding, newline="") as handle:
        delimiter = detect_delimiter(handle.read(64 * 1024))
        handle.seek(0)
        records = read_records(handle, delimiter)
        try:
            first = next(records, None)
            if first is None:
                raise LeadImportError("the file is empty: its first line must name the columns")
            if first.problem is not None:
                raise LeadImportError(f"the header line {first.problem}")
            rows = [record.values for _, record in zip(range(PREVIEW_ROWS), records, strict=False)]
        except Exception as exc:
            if isinstance(exc, LeadImportError):
                raise
            raise LeadImportError(f"the file is not a readable CSV file: {exc}") from exc
    header = [_clip(name.strip(), MAX_HEADER_NAME) for name in first.values]
    if not any(header):
        raise LeadImportError("the first line must name the columns; it is empty")
    if len(header) > MAX_COLUMNS:
        raise LeadImportError(f"the file has {len(header)} columns; at most {MAX_COLUMNS}")
    preview = [[_clip(value, PREVIEW_CELL) for value in row[: len(header)]] for row in rows]
    return header, preview, delimiter


def _clip(value: str, limit: int) -> str:
    value = value.replace("\x00", "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


# ---------------------------------------------------------------- mapping


@dataclass(frozen=True)
class MappingProblems:
    """Why a mapping cannot start: per column (index → message), for the whole mapping, and
    per other field of the form (``consent_basis``, ``source``)."""

    columns: dict[int, str]
    general: list[str]
    fields: dict[str, str]

    def __bool__(self) -> bool:
        return bool(self.columns or self.general or self.fields)


def check_mapping(
    header: Sequence[str], targets: Sequence[str], consent_basis: str | None, source: str
) -> MappingProblems:
    """What is wrong with this mapping and these options (pure). Problems are worded for
    people; the page shows each beside its control."""
    columns: dict[int, str] = {}
    general: list[str] = []
    fields: dict[str, str] = {}
    seen: dict[str, int] = {}
    if len(targets) != len(header):
        general.append("Choose what each column becomes.")
    for index, target in enumerate(targets):
        if not is_target(target):
            columns[index] = "Choose a lead field, a custom attribute or Don't import."
            continue
        if target == IGNORE_TARGET:
            continue
        if target in seen:
            other = header[seen[target]] or f"#{seen[target] + 1}"
            columns[index] = f"Column “{other}” is already mapped to this."
            continue
        seen[target] = index
    if "email" not in seen and not columns:
        general.append("Map one column to Email: leads are matched by their email address.")
    if consent_basis not in LAWFUL_BASES:
        fields["consent_basis"] = "Choose the lawful basis for this batch."
    if not source.strip() or len(source.strip()) > 100:
        fields["source"] = "A source name has 1 to 100 characters."
    elif _CONTROL_RE.search(source):
        fields["source"] = "A source name cannot hold control characters."
    if not (columns or general):
        try:
            plan_columns(list(header), {}, "ignore", list(targets))
        except LeadImportError as exc:
            general.append(str(exc))
    return MappingProblems(columns, general, fields)


def start_job(
    session: Session,
    job: ImportJob,
    *,
    targets: Sequence[str],
    consent_basis: str | None,
    source: str,
    now: datetime,
    consent: str | None = None,
) -> MappingProblems:
    """Record the mapping, forget the first rows and queue the job; returns the problems
    instead when there are any (nothing is changed then)."""
    problems = check_mapping(job.header, targets, consent_basis, source)
    if job.status != "uploaded":
        problems.general.append("This import has already started.")
    if consent not in (None, *BATCH_CONSENT_STATUSES):
        problems.fields["consent_status"] = "Choose a consent status from the list."
    if problems:
        return problems
    job.mapping = list(targets)
    job.consent_basis, job.consent_status = consent_basis, consent
    job.source = source.strip()
    # The first rows were kept for the mapping page only: not a copy of people's data to
    # keep for as long as the job is listed.
    job.preview = []
    job.status = "queued"
    job.heartbeat_at = now
    return problems


# ---------------------------------------------------------------- running


def _record_counts(job: ImportJob, summary: ImportSummary, now: datetime) -> None:
    for name in RESUMABLE_COUNTS:
        setattr(job, name, getattr(summary, name))
    job.not_mailable = dict(summary.not_mailable)  # a new dict: the JSON column is seen to change
    job.heartbeat_at = now


def run_job(
    session_factory: sessionmaker[Session],
    job_id: int,
    *,
    instance_path: Path,
    default_timezone: str,
    batch_size: int,
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """Import a queued job's file; returns the job's final status."""
    with transaction(session_factory) as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        if job is None or job.status != "queued":
            return "missing" if job is None else job.status
        if job.cancel_requested:
            _finish(job, "cancelled", clock(), instance_path)
            return job.status
        job.status = "running"
        job.started_at = job.started_at or clock()
        job.heartbeat_at = clock()
        path = stored_path(instance_path, job)
        resume: dict[str, Any] | None = None
        if job.rows_read:
            resume = {name: getattr(job, name) for name in RESUMABLE_COUNTS}
            resume[RESUMABLE_BREAKDOWN] = dict(job.not_mailable or {})
        targets, basis, source = list(job.mapping or []), job.consent_basis, job.source
        consent, file_name = job.consent_status, job.file_name
        encoding, delimiter = job.encoding, job.delimiter
    sink = JobRejects(job_id)
    last_scan = [0.0]

    def on_scan(rows: int, done: bool) -> None:
        if not done and time.monotonic() - last_scan[0] < 1.0:
            return
        last_scan[0] = time.monotonic()
        with transaction(session_factory) as session:
            job = session.get(ImportJob, job_id)
            assert job is not None
            if job.cancel_requested:
                raise ImportCancelled
            job.rows_scanned = rows
            job.heartbeat_at = clock()
            if done:
                job.rows_total = rows

    def on_begin(session: Session) -> None:
        session.get(ImportJob, job_id, with_for_update=True)

    def on_commit(session: Session, summary: ImportSummary) -> None:
        job = session.get(ImportJob, job_id)
        assert job is not None
        session.refresh(job, ["cancel_requested"])
        if job.cancel_requested:
            raise ImportCancelled
        _record_counts(job, summary, clock())
        sink.flush(session)

    try:
        if path is None or not path.is_file():
            raise LeadImportError("the uploaded file is no longer there; upload it again")
        summary = import_leads_csv(
            session_factory,
            path,
            now=clock(),
            column_targets=targets,
            encoding=encoding,
            delimiter=delimiter,
            rejects=sink,
            default_timezone=default_timezone,
            source=source,
            progress=False,
            batch_size=batch_size,
            consent_basis=basis,
            consent=consent,
            consent_source=file_name,
            on_scan=on_scan,
            on_begin=on_begin,
            on_commit=on_commit,
            resume=resume,
        )
    except ImportCancelled:
        return _end(session_factory, job_id, "cancelled", None, instance_path, clock)
    except LeadImportError as exc:
        return _end(session_factory, job_id, "failed", str(exc), instance_path, clock)
    except Exception as exc:
        # Only the type: a database error's message can quote a row's personal data.
        log.error("import job %s stopped: %s", job_id, type(exc).__name__)
        return _end(
            session_factory,
            job_id,
            "interrupted",
            f"stopped by an unexpected error ({type(exc).__name__}); it can be resumed",
            instance_path,
            clock,
        )
    with transaction(session_factory) as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        assert job is not None
        _record_counts(job, summary, clock())
        sink.flush(session)
        _finish(job, "done", clock(), instance_path)
        return job.status


def _end(
    session_factory: sessionmaker[Session],
    job_id: int,
    status: str,
    error: str | None,
    instance_path: Path,
    clock: Callable[[], datetime],
) -> str:
    # The rows rejected since the last commit are dropped with the counts that were not
    # committed either: a resumed import reads those rows again.
    with transaction(session_factory) as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        assert job is not None
        job.error = error[:1000] if error else None
        _finish(job, status, clock(), instance_path)
        return status


def _finish(job: ImportJob, status: str, now: datetime, instance_path: Path) -> None:
    """End the job (its row is locked by the caller, so no erasure is rewriting the file
    being deleted)."""
    job.status = status
    job.finished_at = now
    job.heartbeat_at = now
    if status in FINISHED_STATUSES:
        # The import is over (a failed job cannot be started again either): no copy of the
        # people's data is kept beyond the leads and the rejected rows.
        path = stored_path(instance_path, job)
        if path is not None:
            path.unlink(missing_ok=True)
        job.stored_name = None


# ---------------------------------------------------------------- after an interruption


def recover_interrupted(session: Session, now: datetime) -> int:
    """Mark queued or running jobs whose heartbeat stopped as interrupted; returns how
    many. Called when the import pages are read, so a restart shows what was left."""
    # Locked in the order of their ids, as an erasure locks jobs: two transactions locking
    # the same rows in different orders could deadlock.
    stale = session.scalars(
        select(ImportJob)
        .where(ImportJob.status.in_(OPEN_STATUSES), ImportJob.heartbeat_at < now - STALE_AFTER)
        .order_by(ImportJob.id)
        .with_for_update()
    ).all()
    for job in stale:
        job.status = "interrupted"
        job.error = "the process running the import stopped; resume it to carry on"
    return len(stale)


def resume_job(session: Session, job: ImportJob, now: datetime) -> bool:
    """Queue an interrupted job again (it carries on after its last committed batch)."""
    if job.status not in RESUMABLE_STATUSES or job.stored_name is None:
        return False
    job.status = "queued"
    job.error = None
    job.cancel_requested = False
    job.heartbeat_at = now
    return True


def request_cancel(session: Session, job: ImportJob, now: datetime, instance_path: Path) -> bool:
    """Stop a job: an interrupted one at once, a queued or running one at its next batch
    (the rows already imported stay)."""
    session.refresh(job, with_for_update=True)
    if job.status in RESUMABLE_STATUSES:
        _finish(job, "cancelled", now, instance_path)
        return True
    if job.status not in OPEN_STATUSES:
        return False
    job.cancel_requested = True
    return True


def delete_job(session: Session, job: ImportJob, instance_path: Path) -> bool:
    """Forget a job that is not running: its stored file, its rejected rows and itself
    (the leads it imported stay)."""
    session.refresh(job, with_for_update=True)
    if job.status in OPEN_STATUSES:
        return False
    path = stored_path(instance_path, job)
    if path is not None:
        path.unlink(missing_ok=True)
    session.execute(delete(ImportReject).where(ImportReject.job_id == job.id))
    session.delete(job)
    return True

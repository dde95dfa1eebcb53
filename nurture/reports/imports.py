"""The import pages' figures: past imports, one import's state, its rejected rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.leads.import_jobs import OPEN_STATUSES, RESUMABLE_STATUSES
from nurture.models import ImportJob, ImportReject, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class JobRow:
    """One import as the pages show it. ``progress`` counts rows done out of ``total``
    (None until the first pass has counted the file's rows)."""

    id: int
    file_name: str
    size_bytes: int
    user: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    rows_total: int | None
    rows_scanned: int
    rows_read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    duplicates: int
    blank: int
    accounts_created: int
    # Imported leads campaigns may mail, and the others by reason.
    mailable: int
    not_mailable: dict[str, int]
    error: str | None
    source: str
    consent_basis: str | None
    consent_status: str | None
    cancel_requested: bool
    has_file: bool

    @property
    def is_open(self) -> bool:
        """Queued or running: the page follows its progress."""
        return self.status in OPEN_STATUSES

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE_STATUSES and self.has_file

    @property
    def phase(self) -> str:
        """``checking`` (first pass: counting and checking rows), ``importing``, or the
        status of a job that is not running."""
        if self.status != "running":
            return self.status
        return "checking" if self.rows_total is None else "importing"

    @property
    def percent(self) -> int | None:
        """How far the import is, 0–100 (None while the rows are being counted)."""
        if self.status == "done":
            return 100
        if not self.rows_total:
            return None
        return min(100, self.rows_read * 100 // self.rows_total)


def _row(job: ImportJob, user: str | None) -> JobRow:
    return JobRow(
        id=job.id,
        file_name=job.file_name,
        size_bytes=job.size_bytes,
        user=user,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        status=job.status,
        rows_total=job.rows_total,
        rows_scanned=job.rows_scanned,
        rows_read=job.rows_read,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        rejected=job.rejected,
        duplicates=job.duplicates,
        blank=job.blank,
        accounts_created=job.accounts_created,
        mailable=job.mailable,
        not_mailable=dict(job.not_mailable or {}),
        error=job.error,
        source=job.source,
        consent_basis=job.consent_basis,
        consent_status=job.consent_status,
        cancel_requested=job.cancel_requested,
        has_file=job.stored_name is not None,
    )


@dataclass(frozen=True)
class JobPage:
    """A page of past imports, newest first; ``next_after`` continues the list."""

    rows: list[JobRow]
    next_after: int | None


def list_jobs(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> JobPage:
    """Imports newest first (by id: the primary key), ``limit`` at a time."""
    query = (
        select(ImportJob, User.name)
        .outerjoin(User, User.id == ImportJob.user_id)
        .order_by(ImportJob.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(ImportJob.id < after)
    found = [_row(job, name) for job, name in session.execute(query)]
    more = len(found) > limit
    rows = found[:limit]
    return JobPage(rows, rows[-1].id if more else None)


def job_row(session: Session, job_id: int) -> JobRow | None:
    """One import, or None."""
    found = session.execute(
        select(ImportJob, User.name)
        .outerjoin(User, User.id == ImportJob.user_id)
        .where(ImportJob.id == job_id)
    ).first()
    return None if found is None else _row(found[0], found[1])


@dataclass(frozen=True)
class RejectRow:
    """A rejected row: its first line in the file, its values, why."""

    id: int
    line: int
    values: list[str]
    reason: str


def rejects_after(
    session: Session, job_id: int, *, after: int = 0, limit: int = 1000
) -> list[RejectRow]:
    """The job's rejected rows in file order, ``limit`` at a time after id ``after``."""
    return [
        RejectRow(reject.id, reject.line, [str(v) for v in reject.values], reject.reason)
        for reject in session.scalars(
            select(ImportReject)
            .where(ImportReject.job_id == job_id, ImportReject.id > after)
            .order_by(ImportReject.id)
            .limit(limit)
        )
    ]

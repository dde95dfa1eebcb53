"""CSV import jobs started from the web app: the uploaded file, its mapping, progress and
counts, and the rows it rejected."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.platform.db import Base, utcnow


class ImportJob(Base):
    """One uploaded lead file and its import.

    ``status``: ``uploaded`` (waiting for its mapping) → ``queued`` → ``running`` → ``done``;
    or ``failed`` (it could not go on: ``error`` says why), ``interrupted`` (the process
    running it stopped; it can be resumed after ``rows_read`` rows) or ``cancelled``. The
    counts always describe the rows whose batch committed, never more.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The name the file had on the uploader's computer (shown, never used as a path).
    file_name: Mapped[str] = mapped_column(String(255))
    # The stored copy's name inside the instance folder's imports/ (random); null once the
    # import is over and the copy is deleted.
    stored_name: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(2))
    header: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The first rows, shortened, for the preview and the suggestions.
    preview: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # One target per column (a lead field, attributes.<name> or "-"), once chosen.
    mapping: Mapped[list[str] | None] = mapped_column(JSON)
    consent_basis: Mapped[str | None] = mapped_column(String(30))
    # The consent status the batch records for rows without their own (``--consent``).
    consent_status: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100), default="csv")
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    # Rows in the file (known once the first pass is done) and rows checked so far by it.
    rows_total: Mapped[int | None]
    rows_scanned: Mapped[int] = mapped_column(default=0)
    rows_read: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    blank: Mapped[int] = mapped_column(default=0)
    accounts_created: Mapped[int] = mapped_column(default=0)
    stage_changes: Mapped[int] = mapped_column(default=0)
    unlinked_companies: Mapped[int] = mapped_column(default=0)
    # Imported leads campaigns may mail, and the others by reason
    # (nurture.consent.rules.NOT_MAILABLE_REASONS).
    mailable: Mapped[int] = mapped_column(default=0, server_default="0")
    not_mailable: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    error: Mapped[str | None] = mapped_column(String(1000))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Written with every committed batch: a running job whose heartbeat stops was
    # interrupted (its process died).
    heartbeat_at: Mapped[datetime | None]


class ImportReject(Base):
    """A row an import job could not import: its first line, original values and reason
    (written in the same transaction as the counts that include it)."""

    __tablename__ = "import_rejects"
    __table_args__ = (Index("ix_import_rejects_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    line: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    values: Mapped[list[Any]] = mapped_column(JSON, default=list)

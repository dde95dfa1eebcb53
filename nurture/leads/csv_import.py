"""CSV import of leads.

The file is read once and its rows gone through twice. The first pass parses and validates
every row before anything touches the database, and finds each address's last valid row,
so that when an address appears more than once the *last* row wins and the earlier ones
are reported, not imported and then overwritten. The second pass goes through the parsed
rows (``nurture.leads.parsed_rows``, kept in a temporary file, chunk by chunk) and upserts
the valid ones in batches, one transaction per batch: an invalid row is written to the
rejects file and never aborts its batch.

Every row ends up counted exactly once: created, updated, unchanged, rejected, duplicate
(superseded by a later row) or blank.

Which column holds which field is decided by ``nurture.leads.csv_columns``; reading the
file, turning a row into lead data and writing the rejects file by ``nurture.leads.csv_rows``.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nurture.consent.suppression import erased_among
from nurture.leads.accounts import FREE_MAIL_DOMAINS
from nurture.leads.csv_columns import EXTRA_COLUMN_MODES, LeadImportError, plan_columns
from nurture.leads.csv_rows import (
    ERASED_ROW_REASON,
    RejectsFile,
    RejectSink,
    detect_delimiter,
    detect_encoding,
    parse_row,
    read_records,
)
from nurture.leads.fields import LAWFUL_BASES
from nurture.leads.import_summary import (
    BATCH_CONSENT_STATUSES,
    BatchConsent,
    ImportSummary,
    apply_batch_consent,
    count_mailability,
    count_rejected,
)
from nurture.leads.parsed_rows import ParsedRow, ParsedRows
from nurture.leads.service import UpsertResult, upsert_leads
from nurture.leads.validation import LeadFields
from nurture.models import Account, Enrollment, Event, Lead
from nurture.platform.db import refresh_statistics, table_of, transaction

_SNIFF_BYTES = 64 * 1024
# How often pass 1 reports how far it got (rows).
_SCAN_REPORT_EVERY = 1000
# PostgreSQL plans each batch's queries (the accounts' people, readiness, the roll-up) from
# the tables' statistics. A table an import grows from empty has none until autovacuum
# samples it (never, where autovacuum is off), and planned blind those queries read every
# live lead, once per batch (measured: 250-770 ms each at 100,000 leads, 1-135 ms with
# statistics). So the import has the tables it grows sampled again whenever the leads it
# created since the last sample reach this many and as many as it had created before.
ANALYZE_AFTER = 5000
GROWN_TABLES = tuple(table_of(model) for model in (Lead, Account, Event, Enrollment))

# The counts an interrupted import resumes from (an import job keeps them).
RESUMABLE_COUNTS = (
    "rows_read",
    "created",
    "updated",
    "unchanged",
    "rejected",
    "duplicates",
    "blank",
    "accounts_created",
    "stage_changes",
    "unlinked_companies",
    "mailable",
)
# Resumed with the counts: imported leads that cannot be mailed, by reason.
RESUMABLE_BREAKDOWN = "not_mailable"


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
    consent: str | None = None,
    consent_source: str | None = None,
    free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS,
    column_targets: Sequence[str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    rejects: RejectSink | None = None,
    on_scan: Callable[[int, bool], None] | None = None,
    on_begin: Callable[[Session], None] | None = None,
    on_commit: Callable[[Session, ImportSummary], None] | None = None,
    resume: Mapping[str, Any] | None = None,
) -> ImportSummary:
    """Import leads from a CSV file; return what happened.

    ``mapping`` maps column names to fields (``email``, ``attributes.plan``, or ``-`` to skip)
    and overrides the automatic header recognition. Rejected rows go to ``rejects_path`` — by
    default ``<file>.rejects.csv`` beside the input — with their original values plus
    ``_line`` and ``_reason``. When an email appears on several rows the last valid one is
    imported and the others are listed in ``duplicate_lines``.
    ``extra_columns="attributes"`` imports unrecognised columns as custom attributes;
    ``"ignore"`` lists them in the summary (with a "did you mean" when a header is close to
    a field's name). ``consent_basis`` is the lawful basis recorded for leads that have none.
    ``consent`` (``granted``, ``pending`` or ``withdrawn``) is the consent status the file
    records for rows without their own, with the import and the file's name as its source and
    ``now`` as its time (``consent_source`` names the file instead: an uploaded copy's
    name is not the person's file name; ``import_summary.apply_batch_consent`` says where it
    applies). The summary counts who of the imported leads cannot be mailed, and why. A row
    whose address was erased at the person's request is rejected without its values
    (``ERASED_ROW_REASON``): an import never brings an erased person back. Raises
    ``LeadImportError`` when the import cannot start.

    For the web app's import jobs: ``column_targets`` maps every column by position (see
    ``plan_columns``); ``encoding`` and ``delimiter`` are those found when the file was
    uploaded (its start may have changed since: an erasure empties rows); ``rejects`` takes
    the rejected rows instead of a file; ``on_scan`` hears how many rows the first pass has
    read (and True once it is done); ``on_begin`` runs first in every batch's transaction (a
    job locks its row there, so that an erasure and a batch never overlap); ``on_commit``
    runs inside every batch's transaction once its rows are written, so what it records
    (progress, counts, rejects) commits with them or not at all; ``resume`` (counts from
    ``RESUMABLE_COUNTS``, and ``not_mailable``) carries on after the first ``rows_read`` rows
    of an import that was interrupted, with its counts.
    """
    started = time.perf_counter()
    path = Path(path)
    if extra_columns not in EXTRA_COLUMN_MODES:
        raise LeadImportError(f"extra_columns must be one of {', '.join(EXTRA_COLUMN_MODES)}")
    if consent_basis is not None and consent_basis not in LAWFUL_BASES:
        raise LeadImportError(f"consent basis must be one of {', '.join(LAWFUL_BASES)}")
    if consent is not None and consent not in BATCH_CONSENT_STATUSES:
        raise LeadImportError(f"consent must be one of {', '.join(BATCH_CONSENT_STATUSES)}")
    if batch_size < 1:
        raise LeadImportError("batch_size must be at least 1")
    batch_consent = (
        None
        if consent is None
        else BatchConsent(
            status=consent, source=f"import {consent_source or path.name}"[:200], at=now
        )
    )
    defaults = {"lawful_basis": consent_basis} if consent_basis else {}
    rejects_file = (
        Path(rejects_path) if rejects_path else path.with_name(f"{path.stem}.rejects.csv")
    )
    if rejects_file.resolve() == path.resolve():
        raise LeadImportError("the rejects file must not be the file being imported")

    parsed = ParsedRows()
    failed = True  # until pass 1 is over: then pass 2 reads ``parsed`` and closes it
    try:
        try:
            encoding = encoding or detect_encoding(path)
        except LeadImportError as exc:
            raise LeadImportError(f"{path} cannot be imported: {exc}") from None
        with path.open(encoding=encoding, newline="") as handle:
            delimiter = delimiter or detect_delimiter(handle.read(_SNIFF_BYTES))
            handle.seek(0)
            records = read_records(handle, delimiter)
            header_record = next(records, None)
            if header_record is None:
                raise LeadImportError(f"{path} is empty: the first line must name the columns")
            if header_record.problem is not None:
                raise LeadImportError(f"{path.name}: the header line {header_record.problem}")
            header = [name.strip() for name in header_record.values]
            duplicates = sorted({h for h in header if h and header.count(h) > 1})
            if duplicates and column_targets is None:
                raise LeadImportError(f"{path}: duplicate column names {duplicates}")
            plan, notes = plan_columns(header, mapping or {}, extra_columns, column_targets)
            # Pass 1: the last valid row of every email address (and the total for the
            # progress bar). An invalid later row does not displace an earlier valid one.
            # Each row's result is kept for pass 2 (``parsed``), not parsed again.
            last_row: dict[str, tuple[int, int]] = {}
            total = 0
            for number, (line, values, problem) in enumerate(records):
                total += 1
                if on_scan is not None and total % _SCAN_REPORT_EVERY == 0:
                    on_scan(total, False)
                reason: str | None
                if problem is not None:
                    fields, reason = None, problem
                else:
                    fields, reason = parse_row(plan, values, default_timezone)
                if fields is not None:
                    last_row[fields.email] = (number, line)
                parsed.append(ParsedRow(line, values, fields, reason))
            if on_scan is not None:
                on_scan(total, True)
        failed = False
    except OSError as exc:
        raise LeadImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except csv.Error as exc:
        raise LeadImportError(f"{path} is not a readable CSV file: {exc}") from exc
    except UnicodeDecodeError as exc:
        # Only with a given encoding: a detected one has decoded the whole file already.
        raise LeadImportError(f"{path} is not {encoding} text: {exc.reason}") from exc
    finally:
        if failed:
            parsed.close()

    summary = ImportSummary(
        path=path,
        columns=plan.describe(),
        ignored_columns=plan.ignored,
        ignored_hints=dict(plan.hints),
        notes=notes,
        encoding=encoding,
        delimiter=delimiter,
    )
    skip = 0
    for name, value in (resume or {}).items():
        if name == RESUMABLE_BREAKDOWN:
            summary.not_mailable = {str(k): int(v) for k, v in dict(value).items()}
            continue
        if name not in RESUMABLE_COUNTS:
            raise LeadImportError(f"cannot resume from {name!r}")
        setattr(summary, name, value)
        skip = summary.rows_read
    sink: RejectSink = (
        rejects if rejects is not None else RejectsFile(rejects_file, header, delimiter)
    )
    batch: list[tuple[int, list[str], LeadFields]] = []
    sampled_at = summary.created  # the leads created when the tables were last sampled

    def flush() -> None:
        nonlocal sampled_at
        _import_batch(
            session_factory,
            batch,
            summary,
            sink,
            now=now,
            source=source,
            defaults=defaults,
            consent=batch_consent,
            free_mail_domains=free_mail_domains,
            on_begin=on_begin,
            on_commit=on_commit,
        )
        batch.clear()
        grown = summary.created - sampled_at
        if grown >= ANALYZE_AFTER and grown >= sampled_at:
            with transaction(session_factory) as session:
                refresh_statistics(session, GROWN_TABLES)
            sampled_at = summary.created

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
        with bar:
            task = bar.add_task("import", total=total, name=path.name)
            for number, (line, values, fields, reason) in enumerate(parsed):
                if number < skip:
                    continue  # imported before the interruption
                summary.rows_read += 1
                if number % 200 == 0:
                    bar.update(task, completed=number)
                if fields is None:
                    if reason is None:
                        summary.blank += 1
                    else:
                        count_rejected(summary, line, reason)
                        sink.write(line, values, reason)
                    continue
                last_number, last_line = last_row[fields.email]
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
        parsed.close()
        sink.close()

    if rejects is None and sink.used:
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
    lead = result.lead
    count_mailability(
        summary,
        consent_status=lead.consent_status,
        lawful_basis=lead.lawful_basis,
        unsubscribed_at=lead.unsubscribed_at,
        suppressed_at=lead.suppressed_at,
        suppression_reason=lead.suppression_reason,
    )


def _import_batch(
    session_factory: sessionmaker[Session],
    batch: list[tuple[int, list[str], LeadFields]],
    summary: ImportSummary,
    rejects: RejectSink,
    *,
    now: datetime,
    source: str,
    defaults: Mapping[str, Any],
    consent: BatchConsent | None,
    free_mail_domains: frozenset[str],
    on_begin: Callable[[Session], None] | None,
    on_commit: Callable[[Session, ImportSummary], None] | None,
) -> None:
    """Upsert one batch in one transaction.

    Rows of erased people are rejected first, in the batch's own transaction, so an erasure
    committed while the import runs (after the file was read) still counts.

    Rows were validated already, so the database refuses a batch only when something
    changed under the import (another process created the same lead or account a moment
    earlier). Then every row is retried in its own transaction, and a row the database still
    refuses is rejected with the database's reason: the rest of the batch is still imported.

    ``on_begin`` runs first in each of these transactions; ``on_commit`` runs in the batch's
    transaction with the counts including the batch (after a retry, in one more transaction
    of its own).
    """
    counted = {name: getattr(summary, name) for name in RESUMABLE_COUNTS}
    kept = (dict(summary.not_mailable), list(summary.rejected_rows))
    erased: set[str] = set()
    try:
        with transaction(session_factory) as session:
            if on_begin is not None:
                on_begin(session)
            erased = erased_among(session, {fields.email for _, _, fields in batch})
            for line, _, fields in batch:
                if fields.email in erased:
                    count_rejected(summary, line, ERASED_ROW_REASON)
                    rejects.write(line, [], ERASED_ROW_REASON)
            rows = [fields for _, _, fields in batch if fields.email not in erased]
            results = upsert_leads(
                session,
                _with_consent(session, rows, consent),
                now=now,
                source=source,
                defaults=defaults,
                free_mail_domains=free_mail_domains,
            )
            for result in results:
                _count(summary, result)
            if on_commit is not None:
                on_commit(session, summary)
    except IntegrityError:
        # Counted inside the transaction that was rolled back: undone with it, except the
        # erased rows, which the rejects have already taken.
        for name, value in counted.items():
            setattr(summary, name, value)
        summary.not_mailable, summary.rejected_rows = kept
        for line, _, fields in batch:
            if fields.email in erased:
                count_rejected(summary, line, ERASED_ROW_REASON)
    else:
        return
    for line, values, fields in batch:
        if fields.email in erased:
            continue
        try:
            with transaction(session_factory) as session:
                if on_begin is not None:
                    on_begin(session)
                (result,) = upsert_leads(
                    session,
                    _with_consent(session, [fields], consent),
                    now=now,
                    source=source,
                    defaults=defaults,
                    free_mail_domains=free_mail_domains,
                )
        except IntegrityError as exc:
            reason = f"the database refused the row: {exc.orig}"
            count_rejected(summary, line, reason)
            rejects.write(line, values, reason)
        else:
            _count(summary, result)
    if on_commit is not None:
        with transaction(session_factory) as session:
            if on_begin is not None:
                on_begin(session)
            on_commit(session, summary)


def _with_consent(
    session: Session, rows: list[LeadFields], consent: BatchConsent | None
) -> list[LeadFields]:
    """The rows with the batch's consent applied where it may be (one query for the stored
    consent of the batch's existing leads)."""
    if consent is None or not rows:
        return rows
    found = session.execute(
        select(Lead.email, Lead.consent_status).where(
            Lead.email.in_({fields.email for fields in rows})
        )
    )
    stored = {email: status for email, status in found}
    return [apply_batch_consent(fields, stored.get(fields.email), consent) for fields in rows]

"""Import: upload a lead file, check its first rows, map its columns (suggested in any
header language), choose the batch's lawful basis, follow the import's progress and download
the rejected rows with their reasons (docs/web/import.md).

The import runs the use case of ``nurture leads import`` (``nurture.leads.import_jobs``) in
a thread of the web process; each batch's transaction records the job's progress, so the
page (and its JSON status, polled by ``progress.js``) always shows committed counts. If the
process stops, the job is marked interrupted and can be resumed where it stopped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from nurture.auth import roles
from nurture.leads import import_jobs
from nurture.leads.column_suggestions import suggest_columns
from nurture.leads.csv_columns import LINE_COLUMN, REASON_COLUMN, LeadImportError
from nurture.models import ImportJob
from nurture.platform.csv_safety import safe_row
from nurture.platform.db import transaction, utcnow
from nurture.reports.imports import JobRow, job_row, list_jobs, rejects_after
from nurture.reports.keyset import parse_id
from nurture.web.ui.background import join_threads, start_thread
from nurture.web.ui.downloads import csv_download
from nurture.web.ui.formatting import number_text
from nurture.web.ui.imports_forms import (
    FIELD_LABELS,
    UploadForm,
    column_field_name,
    default_targets,
    mapping_form,
)
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_import", __name__)

# Ids are database integers: a larger number names nothing (and must not reach the query).
MAX_ID = 2**31 - 1
# Room for the multipart envelope and the CSRF token around the file itself.
_FORM_OVERHEAD = 64 * 1024


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    app = state.app

    def limit_upload_size() -> None:
        # Before CSRF's check reads the form: an oversized upload is refused while it
        # arrives, not after it has been spooled to disk.
        if request.endpoint == "ui_import.upload":
            limit = runtime().settings.import_max_size + _FORM_OVERHEAD
            request.max_content_length = limit

    app.before_request_funcs.setdefault(None, []).insert(0, limit_upload_size)


@bp.app_template_filter("import_size")
def import_size(size: int) -> str:
    """A file size for people: 12.3 MB, 512 KB."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{format_decimal(size / factor, format='#,##0.#')} {unit}"
    return _("%(count)s bytes", count=number_text(size))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Response:
    """The upload is over the size limit: the upload page, with the limit beside the field."""
    form = UploadForm(formdata=None)
    form.file.errors = [
        _(
            "The file is larger than the limit of %(limit)s. Split it into smaller files, "
            "or ask an admin to raise NURTURE_IMPORT_MAX_SIZE.",
            limit=import_size(runtime().settings.import_max_size),
        )
    ]
    return _index_page(form, status=413)


def _index_page(form: UploadForm, *, status: int = 200) -> Response:
    after = request.args.get("after", "")
    with transaction(runtime().sessions) as session:
        import_jobs.recover_interrupted(session, utcnow())
        jobs = list_jobs(session, after=parse_id(after))
    links = page_links("ui_import.index", jobs.next_after, bool(after))
    return page(
        "ui/import/index.html",
        form=form,
        jobs=jobs.rows,
        next_url=links.next_url,
        first_url=links.first_url,
        max_size=runtime().settings.import_max_size,
        status=status,
    )


@bp.get("/import")
@requires(roles.LEADS_EDIT)
def index() -> Any:
    """The upload form and the past imports."""
    return _index_page(UploadForm())


@bp.post("/import")
@requires(roles.LEADS_EDIT)
def upload() -> Any:
    """Keep the uploaded file and go to its mapping page."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        settings = runtime().settings
        try:
            with transaction(runtime().sessions) as session:
                job = import_jobs.create_job(
                    session,
                    instance_path=settings.instance_path,
                    stream=upload.stream,
                    file_name=upload.filename,
                    user_id=current_user.id,
                    now=utcnow(),
                    max_bytes=settings.import_max_size,
                )
                job_id = job.id
        except LeadImportError as exc:
            form.file.errors.append(_("This file cannot be imported: %(reason)s", reason=exc))
        else:
            return redirect(url_for("ui_import.show", job_id=job_id))
    return _index_page(form, status=422)


def _job(session: Any, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id) if 0 < job_id <= MAX_ID else None
    if job is None:
        abort(404)
    return job


def _mapping_page(job: ImportJob, form: Any, *, general: list[str], status: int) -> Response:
    suggestions = suggest_columns(job.header, job.preview)
    columns = [
        {
            "index": index,
            "name": name,
            "field": form[column_field_name(index)],
            "samples": [row[index] for row in job.preview[:3] if index < len(row) and row[index]],
            "suggestion": suggestions[index],
        }
        for index, name in enumerate(job.header)
    ]
    return page(
        "ui/import/mapping.html",
        job=job,
        form=form,
        columns=columns,
        general=general,
        field_labels=FIELD_LABELS,
        status=status,
    )


@bp.get("/import/<int:job_id>")
@requires(roles.LEADS_EDIT)
def show(job_id: int) -> Any:
    """An upload waiting for its mapping, or an import's progress and results."""
    with transaction(runtime().sessions) as session:
        import_jobs.recover_interrupted(session, utcnow())
        job = _job(session, job_id)
        if job.status == "uploaded":
            suggestions = suggest_columns(job.header, job.preview)
            form = mapping_form(job.header, default_targets(job.header, suggestions))
            return _mapping_page(job, form, general=[], status=200)
        row = job_row(session, job_id)
    return page("ui/import/job.html", job=row)


@bp.post("/import/<int:job_id>/start")
@requires(roles.LEADS_EDIT)
def start(job_id: int) -> Any:
    """Check the mapping; start the import, or show the problems beside their controls."""
    with transaction(runtime().sessions) as session:
        job = _job(session, job_id)
        if job.status != "uploaded":
            flash(_("This import has already started."), "info")
            return redirect(url_for("ui_import.show", job_id=job_id))
        form = mapping_form(job.header, [])
        targets = [form[column_field_name(i)].data or "" for i in range(len(job.header))]
        valid = form.validate_on_submit()
        source = form.source.data or ""
        problems = import_jobs.check_mapping(job.header, targets, form.consent_basis.data, source)
        if valid and not problems:
            problems = import_jobs.start_job(
                session,
                job,
                targets=targets,
                consent_basis=form.consent_basis.data,
                source=source,
                now=utcnow(),
                consent=form.consent_status.data or None,
            )
        for index, message in problems.columns.items():
            form[column_field_name(index)].errors.append(message)
        for name, message in problems.fields.items():
            if not form[name].errors:
                form[name].errors.append(message)
        general, started = problems.general, valid and not problems
        if not started:
            # Nothing was changed: start_job records the mapping only when all of it holds.
            return _mapping_page(job, form, general=general, status=422)
        name = job.file_name
    _launch(job_id)
    flash(_("Importing %(name)s…", name=name), "info")
    return redirect(url_for("ui_import.show", job_id=job_id))


def _launch(job_id: int) -> None:
    settings = runtime().settings
    start_thread(
        f"nurture-import-{job_id}",
        import_jobs.run_job,
        runtime().sessions,
        job_id,
        instance_path=settings.instance_path,
        default_timezone=settings.default_timezone,
        batch_size=settings.import_batch_size,
    )


def join_imports(app: Flask, timeout: float = 60.0) -> None:
    """Wait for the imports (and other background work) this app started."""
    join_threads(app, timeout)


def status_text(job: JobRow) -> str:
    """The progress in words, as the page and its JSON status show it."""
    if job.phase == "checking":
        return _("Checking the file: %(rows)s rows read…", rows=number_text(job.rows_scanned))
    if job.status == "queued":
        return _("Waiting to start…")
    total = job.rows_total if job.rows_total is not None else job.rows_read
    text = _(
        "%(done)s of %(total)s rows",
        done=number_text(job.rows_read),
        total=number_text(total),
    )
    if job.percent is not None:
        text += f" ({job.percent} %)"
    return text


bp.add_app_template_global(status_text, "import_status_text")


@bp.get("/import/<int:job_id>/status")
@requires(roles.LEADS_EDIT)
def status(job_id: int) -> Any:
    """The job's progress as JSON, for the progress bar."""
    with transaction(runtime().sessions) as session:
        import_jobs.recover_interrupted(session, utcnow())
        _job(session, job_id)
        job = job_row(session, job_id)
    assert job is not None
    response = jsonify(
        {
            "id": job.id,
            "status": job.status,
            "phase": job.phase,
            "open": job.is_open,
            "rows_total": job.rows_total,
            "rows_scanned": job.rows_scanned,
            "rows_read": job.rows_read,
            "percent": job.percent,
            "text": status_text(job),
            "counts": {
                "created": job.created,
                "updated": job.updated,
                "unchanged": job.unchanged,
                "rejected": job.rejected,
                "duplicates": job.duplicates,
                "blank": job.blank,
            },
            "mailable": job.mailable,
            "not_mailable": job.not_mailable,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/import/<int:job_id>/rejects.csv")
@requires(roles.LEADS_EDIT)
def rejects(job_id: int) -> Any:
    """The rejected rows as CSV: the file's columns, then _line and _reason; safe to open
    in a spreadsheet (formulas are neutralised)."""
    with transaction(runtime().sessions) as session:
        job = _job(session, job_id)
        header, delimiter = list(job.header), job.delimiter
    sessions = runtime().sessions

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter)
        # utf-8-sig: Excel reads a UTF-8 CSV right only when it starts with a BOM.
        writer.writerow(safe_row([*header, LINE_COLUMN, REASON_COLUMN]))
        yield "\ufeff" + buffer.getvalue()
        after = 0
        while True:
            with transaction(sessions) as session:
                chunk = rejects_after(session, job_id, after=after)
            if not chunk:
                return
            buffer.seek(0)
            buffer.truncate()
            for row in chunk:
                values = row.values
                named = values[: len(header)] + [""] * (len(header) - len(values))
                writer.writerow(safe_row([*named, row.line, row.reason, *values[len(header) :]]))
            after = chunk[-1].id
            yield buffer.getvalue()

    return csv_download(stream_with_context(lines()), f"import-{job_id}-rejects.csv")


def _change(job_id: int, action: str) -> Any:
    settings = runtime().settings
    now = utcnow()
    with transaction(runtime().sessions) as session:
        job = _job(session, job_id)
        if action == "resume":
            done = import_jobs.resume_job(session, job, now)
        elif action == "cancel":
            done = import_jobs.request_cancel(session, job, now, settings.instance_path)
        else:
            done = import_jobs.delete_job(session, job, settings.instance_path)
    messages = {
        ("resume", True): (_("The import carries on where it stopped."), "success"),
        ("resume", False): (_("Only an interrupted import can be resumed."), "error"),
        ("cancel", True): (_("The import stops after the batch in hand."), "info"),
        ("cancel", False): (_("This import is not running."), "error"),
        ("delete", True): (_("The import and its rejected rows are deleted."), "success"),
        ("delete", False): (_("A running import cannot be deleted; cancel it first."), "error"),
    }
    message, category = messages[(action, done)]
    flash(message, category)
    if action == "resume" and done:
        _launch(job_id)
    if action == "delete" and done:
        return redirect(url_for("ui_import.index"))
    return redirect(url_for("ui_import.show", job_id=job_id), code=303)


@bp.post("/import/<int:job_id>/resume")
@requires(roles.LEADS_EDIT)
def resume(job_id: int) -> Any:
    """Carry on an interrupted import after its last committed batch."""
    return _change(job_id, "resume")


@bp.post("/import/<int:job_id>/cancel")
@requires(roles.LEADS_EDIT)
def cancel(job_id: int) -> Any:
    """Stop an import (what was imported stays)."""
    return _change(job_id, "cancel")


@bp.post("/import/<int:job_id>/delete")
@requires(roles.LEADS_EDIT)
def delete(job_id: int) -> Any:
    """Forget an import that is not running, with its file and rejected rows."""
    return _change(job_id, "delete")

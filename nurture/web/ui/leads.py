"""The leads pages: the list (search, filters, sorting, keyset pages), bulk enrolment and
CSV export of a filtered set; a lead's own pages are in ``lead_views`` and join this
blueprint here (docs/web/leads.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from nurture.auth import roles
from nurture.campaigns.bulk import BULK_LIMIT
from nurture.campaigns.services import BULK_BATCH, NotFound, enrol_leads
from nurture.consent import audit
from nurture.leads.fields import CONSENT_STATUSES
from nurture.leads.stages import LIFECYCLE_STAGES
from nurture.platform.csv_safety import safe_cell
from nurture.platform.db import transaction, utcnow
from nurture.reports.leads import (
    DEFAULT_SORT,
    GRADES,
    SORTS,
    TEMPERATURES,
    LeadFilter,
    count_matching,
    filter_choices,
    iter_rows,
    list_page,
    matching_ids,
    parse_cursor,
    parse_filter,
)
from nurture.web.ui import lead_views
from nurture.web.ui.downloads import csv_download
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_leads", __name__)

CSV_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "stage",
    "fit_grade",
    "temperature",
    "score",
    "source",
    "consent_status",
    "owner",
    "created_at",
    "last_activity_at",
)


def _filter() -> tuple[LeadFilter, dict[str, str]]:
    return parse_filter(request.args)


@bp.get("/leads")
@requires(roles.LEADS_VIEW)
def index() -> Any:
    """The list."""
    flt, errors = _filter()
    after = parse_cursor(request.args.get("after"), flt.sort)
    with transaction(runtime().sessions) as session:
        result = list_page(session, flt, utcnow(), after=after)
        choices = filter_choices(session, flt)
    args = flt.query_args()
    cursor = result.next_cursor.text() if result.next_cursor else None
    links = page_links("ui_leads.index", cursor, after is not None, **args)
    return page(
        "ui/leads/index.html",
        status=400 if errors else 200,
        flt=flt,
        errors=errors,
        rows=result.rows,
        next_url=links.next_url,
        first_url=links.first_url,
        choices=choices,
        stages=LIFECYCLE_STAGES,
        grades=GRADES,
        temperatures=TEMPERATURES,
        consents=CONSENT_STATUSES,
        sorts=tuple(SORTS),
        default_sort=DEFAULT_SORT,
        query_args=args,
    )


@bp.route("/leads/enrol", methods=["GET", "POST"])
@requires(roles.LEADS_EDIT)
def enrol() -> Any:
    """Bulk enrolment of the filtered set: the count and a campaign first, then the
    outcome (enrolled, and each refusal reason with its count)."""
    source = request.form if request.method == "POST" else request.args
    flt, errors = parse_filter(source)
    campaign = (source.get("campaign_key") or "").strip()
    with transaction(runtime().sessions) as session:
        count = count_matching(session, flt, bound=BULK_LIMIT)
        choices = filter_choices(session, flt)
    campaign_error = None
    if request.method == "POST" and not errors:
        keys = {choice.value for choice in choices["campaigns"]}
        if campaign not in keys:
            campaign_error = _("Choose one of the active campaigns.")
        elif count > BULK_LIMIT:
            campaign_error = _(
                "Narrow the filter to %(limit)s leads or fewer first.", limit=BULK_LIMIT
            )
        elif count == 0:
            campaign_error = _("No lead matches the filter.")
        else:
            return _run_enrolment(flt, campaign)
    return page(
        "ui/leads/enrol.html",
        status=422 if (errors or campaign_error) and request.method == "POST" else 200,
        flt=flt,
        errors=errors,
        count=count,
        limit=BULK_LIMIT,
        campaigns=choices["campaigns"],
        campaign=campaign,
        campaign_error=campaign_error,
        query_args=flt.query_args(),
    )


def _run_enrolment(flt: LeadFilter, campaign: str) -> Any:
    with transaction(runtime().sessions) as session:
        ids = matching_ids(session, flt, limit=BULK_LIMIT)
    batches = [ids[start : start + BULK_BATCH] for start in range(0, len(ids), BULK_BATCH)]
    try:
        summary = enrol_leads(runtime(), batches, campaign, now=utcnow(), via="bulk")
    except NotFound:
        flash(_("That campaign is no longer active; nobody was enrolled."), "error")
        return redirect(url_for("ui_leads.enrol", **flt.query_args()))
    flash(
        _(
            "%(enrolled)s of %(total)s leads enrolled in %(campaign)s.",
            enrolled=summary.enrolled,
            total=summary.considered,
            campaign=campaign,
        ),
        "success" if summary.enrolled else "warning",
    )
    for reason, number in summary.refused.most_common():
        flash(_("Not enrolled (%(count)s): %(reason)s", count=number, reason=reason), "warning")
    return redirect(url_for("ui_leads.index", **flt.query_args()))


@bp.get("/leads/export.csv")
@requires(roles.LEADS_EXPORT)
def export_csv() -> Any:
    """The filtered set as CSV, streamed (every cell safe from formula injection)."""
    flt, errors = _filter()
    if errors:
        return page(
            "ui/error.html",
            status=400,
            title=_("The request was not understood"),
            message="; ".join(f"{name}: {reason}" for name, reason in errors.items()),
        )
    rt = runtime()
    now = utcnow()
    with transaction(rt.sessions) as session:
        # Who took which set, never its contents: the export is personal data leaving.
        audit.record(
            session,
            action="leads.csv_exported",
            lead_id=None,
            email_hash=None,
            detail={"filter": flt.query_args()},
            actor=current_user.actor,
            now=now,
        )

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        with rt.sessions() as session:
            for row in iter_rows(session, flt, now):
                writer.writerow(
                    [
                        row.id,
                        safe_cell(row.email),
                        safe_cell(row.first_name),
                        safe_cell(row.last_name),
                        safe_cell(row.title),
                        safe_cell(row.company),
                        row.stage,
                        row.fit_grade or "",
                        row.temperature,
                        f"{row.score:.2f}",
                        safe_cell(row.source),
                        row.consent_status,
                        safe_cell(row.owner),
                        row.created_at.isoformat(),
                        row.last_activity_at.isoformat(),
                    ]
                )
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    stamp = now.strftime("%Y%m%d-%H%M")
    return csv_download(stream_with_context(lines()), f"leads-{stamp}.csv")


lead_views.register(bp)

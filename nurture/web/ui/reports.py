"""Reports: the funnel, its cohorts and velocity at a glance (docs/web/reports.md).

- ``/reports``: one period and filter for every chart; each chart has its numbers as a
  table under it and a CSV export;
- ``/reports/<name>.csv``: a report's table with the columns of ``nurture report <name>
  --format csv``, safe for spreadsheets.

The figures come from ``nurture.analytics`` (the same functions as the CLI and the API).
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import DateInput

from nurture.analytics import GROUP_BY, FilterError, ReportFilter, parse_filter
from nurture.analytics.choices import report_choices
from nurture.analytics.filters import QUERY_ARGUMENTS, parse_query
from nurture.auth import roles
from nurture.platform.csv_safety import safe_row
from nurture.platform.db import transaction, utcnow
from nurture.web.ui.downloads import csv_download
from nurture.web.ui.render import page
from nurture.web.ui.report_extra import (
    EXTRA_REPORTS,
    OVERVIEW_EXTRAS,
    chart_section,
)
from nurture.web.ui.report_sections import (
    REPORTS,
    cohort_heat,
    funnel_bars,
    label,
    shown_table,
    ungrouped,
    velocity_bars,
)
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_reports", __name__)

# Every report a page draws, by the name its CSV export is asked for.
ALL_REPORTS = {**REPORTS, **EXTRA_REPORTS}

# The query's names: the API's and the CLI's options.
ARGUMENTS = QUERY_ARGUMENTS


class FilterForm(FlaskForm):
    """The period, filters and grouping every chart shares (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    start = StringField(_l("From"), widget=DateInput(), name="from")
    end = StringField(_l("Until (not included)"), widget=DateInput(), name="to")
    source = StringField(_l("Source"))
    campaign = SelectField(_l("Campaign"), validate_choice=False)
    owner = SelectField(_l("Owner"), validate_choice=False)
    grade = SelectField(_l("Fit grade"), validate_choice=False)
    segment = SelectField(_l("Segment"), validate_choice=False)
    by = SelectField(_l("Tables grouped by"), validate_choice=False)


# The form's field for each query argument (``from`` is a Python keyword).
FIELDS = {"from": "start", "to": "end"}


def _form(report: ReportFilter, errors: dict[str, str]) -> FilterForm:
    form = FilterForm(request.args)
    # A date field shows only a whole date: the period as understood (a month given as
    # 2026-01 shows as its first day); a query with a bad value shows what was given.
    if not errors:
        form.start.data = report.start.isoformat()
        form.end.data = report.end.isoformat()
    for name, why in errors.items():
        getattr(form, FIELDS.get(name, name)).errors = [why]
    return form


def _choices(form: FilterForm, choices: Any, groupings: tuple[str, ...] = GROUP_BY) -> None:
    anything = SelectChoice("", str(_l("Any")))
    form.campaign.choices = [anything] + [SelectChoice(k, n) for k, n in choices.campaigns]
    form.owner.choices = [anything] + [SelectChoice(e, n) for e, n in choices.owners]
    form.grade.choices = [anything] + [SelectChoice(g, g) for g in choices.grades]
    form.segment.choices = [anything] + [SelectChoice(s, s) for s in choices.segments]
    form.by.choices = [SelectChoice("", str(_l("Nothing (one row)")))] + [
        SelectChoice(name, label(name)) for name in groupings
    ]


def _filter(groupings: tuple[str, ...] = GROUP_BY) -> tuple[ReportFilter, dict[str, str]]:
    """The query's filter, or the default period and the reasons per argument."""
    today = utcnow().date()
    try:
        return parse_query(request.args, today=today, groupings=groupings), {}
    except FilterError as error:
        return parse_filter(today=today, start=None, end=None), dict(error.errors)


@bp.get("/reports")
@requires(roles.REPORTS_VIEW)
def dashboard() -> Any:
    """The funnel, the cohorts and velocity for one period and filter."""
    report, errors = _filter()
    sections: dict[str, Any] = {}
    extras: list[Any] = []
    with transaction(runtime().sessions) as session:
        choices = report_choices(session)
        if not errors:
            try:
                sections = _sections(session, report)
                extras = [build(session, report) for build in OVERVIEW_EXTRAS]
            except FilterError as error:
                errors = dict(error.errors)
    form = _form(report, errors)
    _choices(form, choices)
    query = {name: request.args[name] for name in ARGUMENTS if request.args.get(name)}
    return page(
        "ui/reports/dashboard.html",
        form=form,
        report=report,
        sections=sections,
        extras=extras,
        query=query,
        last_day=report.end - timedelta(days=1),
        group_label=label(report.group_by) if report.group_by else None,
        status=400 if errors else 200,
    )


def _sections(session: Any, report: ReportFilter) -> dict[str, Any]:
    whole = ungrouped(report)
    built: dict[str, Any] = {}
    for name, spec in REPORTS.items():
        grouped = spec.build(session, report)
        total = grouped if report.group_by is None else spec.build(session, whole)
        table = shown_table(*spec.table(grouped), grouped=report.group_by is not None)
        built[name] = {"table": table, "total": total}
    built["funnel"]["bars"] = funnel_bars(built["funnel"]["total"])
    built["cohorts"]["heat"] = cohort_heat(built["cohorts"]["total"])
    built["velocity"]["ranges"] = velocity_bars(built["velocity"]["total"])
    return built


@bp.get("/reports/campaigns")
@requires(roles.REPORTS_VIEW)
def campaigns() -> Any:
    """Email and campaign results: per campaign (or step, template, version…)."""
    return _chart_page("campaigns", _l("Email and campaign results"))


@bp.get("/reports/feedback")
@requires(roles.REPORTS_VIEW)
def feedback() -> Any:
    """The sales feedback loop: acceptance, rejection reasons, recycled leads."""
    return _chart_page("feedback", _l("Sales feedback"), reasons=True)


def _chart_page(key: str, title: Any, *, reasons: bool = False) -> Any:
    spec = EXTRA_REPORTS[key]
    report, errors = _filter(spec.groupings)
    section = None
    reasons_table = None
    with transaction(runtime().sessions) as session:
        choices = report_choices(session)
        if not errors:
            try:
                section = chart_section(session, report, key)
                if reasons:
                    table = EXTRA_REPORTS["feedback-reasons"].table
                    grouped = replace(report, group_by=section.by)
                    reasons_table = shown_table(*table(spec.build(session, grouped)))
            except FilterError as error:
                errors = dict(error.errors)
    form = _form(report, errors)
    _choices(form, choices, spec.groupings)
    query = {name: request.args[name] for name in ARGUMENTS if request.args.get(name)}
    return page(
        "ui/reports/chart_page.html",
        title=title,
        endpoint=f"ui_reports.{key}",
        form=form,
        report=report,
        section=section,
        reasons=reasons_table,
        query=query,
        last_day=report.end - timedelta(days=1),
        status=400 if errors else 200,
    )


@bp.get("/reports/<name>.csv")
@requires(roles.REPORTS_VIEW)
def export(name: str) -> Any:
    """One report's table as CSV, for the period and filter of the query."""
    spec = ALL_REPORTS.get(name)
    if spec is None:
        abort(404)
    report, errors = _filter(spec.groupings)
    if errors:
        reasons = "; ".join(f"{arg}: {why}" for arg, why in errors.items())
        return Response(reasons + "\n", status=400, mimetype="text/plain")
    with transaction(runtime().sessions) as session:
        try:
            header, rows = spec.table(spec.build(session, report))
        except FilterError as error:
            reasons = "; ".join(f"{arg}: {why}" for arg, why in error.errors.items())
            return Response(reasons + "\n", status=400, mimetype="text/plain")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(safe_row("" if cell is None else cell for cell in row))
    filename = f"nurture-{name}-{report.start.isoformat()}-{report.end.isoformat()}.csv"
    return csv_download(buffer.getvalue(), filename)

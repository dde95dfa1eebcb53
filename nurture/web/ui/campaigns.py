"""The campaign pages (docs/web/campaigns.md).

- ``/campaigns``: every campaign with its status, version, live enrolments and last 7 days;
- ``/campaigns/<key>``: its tracks and steps drawn as a flow with each step's figures, the
  file's problems, pause and resume;
- ``/campaigns/<key>/enrolments``: where each lead is, what is next, how it ended;
- ``/campaigns/<key>/versions``: the stored versions and what changed between two;
- ``/campaigns/<key>/enrol``: enrol one lead, or preview and enrol a filtered set.

Figures come from ``nurture.reports.campaigns``; changes go through the same use cases as
``nurture campaigns pause|resume`` and ``nurture enrol``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.auth import roles
from nurture.campaigns.bulk import BULK_LIMIT, BulkOutcome, enrol_selection
from nurture.campaigns.pausing import CampaignNotFound, pause_campaign, resume_campaign
from nurture.campaigns.services import NotFound, enrol_by_email
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.models import Campaign, CampaignVersion
from nurture.platform.db import transaction, utcnow
from nurture.rendering.library import template_library
from nurture.reports import campaign_flow
from nurture.reports import campaigns as report
from nurture.reports.keyset import moment_cursor, parse_moment_cursor
from nurture.web.ui.campaigns_forms import (
    ENROLMENT_STATES,
    EnrolOneForm,
    SelectionForm,
    period_days,
    reason_text,
    valid_key,
)
from nurture.web.ui.formatting import number_text
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_campaigns", __name__)

STATUSES = ("active", "paused", "archived")


# ---------------------------------------------------------------- template filters


@bp.app_template_filter("campaigns_reason")
def _reason(value: str | None) -> Any:
    return reason_text(value)


# ---------------------------------------------------------------- pages


@bp.get("/campaigns")
@requires(roles.CAMPAIGNS_VIEW)
def index() -> Any:
    """Every campaign, with its last 7 days."""
    status = request.args.get("status", "")
    if status not in STATUSES:
        status = ""
    with transaction(runtime().sessions) as session:
        rows = report.campaign_summaries(session, utcnow(), status=status or None)
    return page("ui/campaigns/index.html", campaigns=rows, chosen=status)


@bp.get("/campaigns/<key>")
@requires(roles.CAMPAIGNS_VIEW)
def show(key: str) -> Any:
    """The campaign's flow with each step's figures over the chosen period."""
    days = period_days(request.args.get("period"))
    now = utcnow()
    start = now - timedelta(days=days)
    with transaction(runtime().sessions) as session:
        campaign = _campaign(session, key)
        version = _active_number(session, campaign)
        flow = None
        # The period's emails once: per step for the flow, added up for the totals.
        emails = report.campaign_email_figures(session, campaign.id, start, now)
        if campaign.active_version_id is not None:
            spec = campaign_spec_for_version(session, campaign.active_version_id)
            figures = report.step_figures(session, campaign.id, start, now, emails=emails)
            flow = campaign_flow.flow(spec, figures)
        totals = report.campaign_totals(session, campaign.id, start, now, emails=emails)
        problems = campaign_flow.file_problems(campaign)
    return page(
        "ui/campaigns/show.html",
        campaign=campaign,
        version=version,
        flow=flow,
        totals=totals,
        problems=problems,
        days=days,
        periods=report.PERIODS,
        # Each send step names the languages its template has a variant in.
        template_languages=template_library(runtime()).languages,
    )


@bp.post("/campaigns/<key>/pause")
@requires(roles.CAMPAIGNS_EDIT)
def pause(key: str) -> Any:
    """Stop sending the campaign's emails; its enrolments keep their place."""
    outcome = _change(pause_campaign, key)
    if outcome.changed:
        flash(
            _(
                "Paused. %(count)s live enrolments hold their place; nothing is sent until "
                "you resume it.",
                count=number_text(outcome.enrolments),
            ),
            "success",
        )
    else:
        flash(_("Nothing changed: %(reason)s.", reason=_state_reason(outcome.reason)), "info")
    return redirect(url_for(".show", key=key))


@bp.post("/campaigns/<key>/resume")
@requires(roles.CAMPAIGNS_EDIT)
def resume(key: str) -> Any:
    """Send again; enrolments continue where they are, within the send window and caps."""
    outcome = _change(resume_campaign, key)
    if outcome.changed:
        flash(
            _(
                "Resumed. %(count)s live enrolments continue; %(due)s were due and go out "
                "within the campaign's send window and caps.",
                count=number_text(outcome.enrolments),
                due=number_text(outcome.overdue),
            ),
            "success",
        )
    else:
        flash(_("Nothing changed: %(reason)s.", reason=_state_reason(outcome.reason)), "info")
    return redirect(url_for(".show", key=key))


@bp.get("/campaigns/<key>/enrolments")
@requires(roles.CAMPAIGNS_VIEW)
def enrolments(key: str) -> Any:
    """The campaign's enrolments, newest first, filtered by state, track, step or lead."""
    args = request.args
    errors: dict[str, str] = {}
    state = args.get("state", "")
    if state and state not in ENROLMENT_STATES:
        errors["state"], state = _("Choose a state from the list."), ""
    track, step, email = args.get("track", ""), args.get("step", ""), args.get("email", "")
    after = parse_moment_cursor(args.get("after"))
    if args.get("after") and after is None:
        errors["after"] = _("That page link is not valid: showing the first page.")
    with transaction(runtime().sessions) as session:
        campaign = _campaign(session, key)
        tracks, steps = _positions(session, campaign)
        if track and track not in tracks:
            errors["track"], track = _("This campaign has no such track."), ""
        if step and step not in steps:
            errors["step"], step = _("This campaign has no such step."), ""
        lead_id: int | None = None
        if email:
            lead_id, problem = _lead_for(session, email)
            if problem:
                errors["email"] = problem
        filters = report.EnrolmentFilter(state or None, track or None, step or None, lead_id)
        found = (
            report.EnrolmentPage([], None)
            if email and lead_id is None
            else report.enrolments_page(session, campaign.id, filters, after=after)
        )
    # Only the filters that were understood travel to the next page.
    query: dict[str, Any] = {
        name: value
        for name, value in (("state", state), ("track", track), ("step", step), ("email", email))
        if value and name not in errors
    }
    cursor = moment_cursor(*found.next_key) if found.next_key else None
    links = page_links(".enrolments", cursor, bool(after), key=key, **query)
    return page(
        "ui/campaigns/enrolments.html",
        status=400 if errors and "after" not in errors else 200,
        campaign=campaign,
        rows=found.rows,
        errors=errors,
        filters={"state": state, "track": track, "step": step, "email": email[:320]},
        states=ENROLMENT_STATES,
        tracks=tracks,
        steps=steps,
        next_url=links.next_url,
        first_url=links.first_url,
    )


@bp.get("/campaigns/<key>/versions")
@requires(roles.CAMPAIGNS_VIEW)
def versions(key: str) -> Any:
    """The stored versions, and what changed between two of them."""
    with transaction(runtime().sessions) as session:
        campaign = _campaign(session, key)
        rows = campaign_flow.versions(session, campaign)
        numbers = [row.number for row in rows]
        old = _version_number(request.args.get("old"))
        new = _version_number(request.args.get("new"))
        if new is None and numbers:
            new = numbers[0]
        if old is None and new is not None:
            old = max((n for n in numbers if n < new), default=None)
        error = None
        diff = None
        if old is not None and new is not None:
            if old in numbers and new in numbers:
                diff = campaign_flow.version_diff(session, campaign, old, new)
            else:
                error = _("Choose two versions from the list.")
    return page(
        "ui/campaigns/versions.html",
        status=400 if error else 200,
        campaign=campaign,
        versions=rows,
        numbers=numbers,
        old=old,
        new=new,
        diff=diff,
        error=error,
    )


# ---------------------------------------------------------------- enrolling


@bp.get("/campaigns/<key>/enrol")
@requires(roles.CAMPAIGNS_EDIT)
def enrol(key: str) -> Any:
    """Enrol one lead; choose a set of leads and preview what enrolling it would do."""
    one = EnrolOneForm(prefix="one")
    selection = SelectionForm(request.args, meta={"csrf": False})
    preview: BulkOutcome | None = None
    status = 200
    if request.args:
        if selection.validate():
            preview = _run_selection(key, selection, preview=True)
        else:
            status = 400
    return _enrol_page(key, one, selection, preview, status)


@bp.post("/campaigns/<key>/enrol/lead")
@requires(roles.CAMPAIGNS_EDIT)
def enrol_lead(key: str) -> Any:
    """Enrol the lead with this address (the rules of ``nurture enrol``)."""
    one = EnrolOneForm(prefix="one")
    if not one.validate_on_submit():
        return _enrol_page(key, one, SelectionForm(meta={"csrf": False}), None, 400)
    with transaction(runtime().sessions) as session:
        _campaign(session, key)
    try:
        outcome = enrol_by_email(runtime(), one.email.data, key, now=utcnow(), via="app")
    except NotFound as exc:
        lead_missing = str(exc).startswith("no lead")
        one.email.errors = [
            _("No lead has this address.")
            if lead_missing
            else reason_text("campaign has no valid version")
        ]
        return _enrol_page(key, one, SelectionForm(meta={"csrf": False}), None, 422)
    if not outcome.enrolled:
        one.email.errors = [_("Not enrolled: %(reason)s.", reason=reason_text(outcome.reason))]
        return _enrol_page(key, one, SelectionForm(meta={"csrf": False}), None, 422)
    flash(_("Enrolled %(email)s; the first step is due now.", email=one.email.data), "success")
    return redirect(url_for(".show", key=key))


@bp.post("/campaigns/<key>/enrol/set")
@requires(roles.CAMPAIGNS_EDIT)
def enrol_set(key: str) -> Any:
    """Enrol the previewed set of leads; says how many entered and why the others did not."""
    selection = SelectionForm()
    if not selection.validate_on_submit():
        return _enrol_page(key, EnrolOneForm(prefix="one"), selection, None, 400)
    outcome = _run_selection(key, selection, preview=False)
    if outcome.too_many or outcome.refused_all:
        return _enrol_page(key, EnrolOneForm(prefix="one"), selection, outcome, 422)
    flash(
        _(
            "%(enrolled)s of %(matched)s leads enrolled.",
            enrolled=number_text(outcome.enrolled),
            matched=number_text(outcome.matched),
        ),
        "success",
    )
    for reason, count in sorted(outcome.refused.items(), key=lambda item: -item[1]):
        flash(
            _(
                "%(count)s not enrolled: %(reason)s.",
                count=number_text(count),
                reason=reason_text(reason),
            ),
            "warning",
        )
    return redirect(url_for(".show", key=key))


def _enrol_page(
    key: str, one: EnrolOneForm, selection: SelectionForm, preview: BulkOutcome | None, status: int
) -> Any:
    with transaction(runtime().sessions) as session:
        campaign = _campaign(session, key)
    return page(
        "ui/campaigns/enrol.html",
        status=status,
        campaign=campaign,
        one=one,
        selection=selection,
        preview=preview,
        limit=BULK_LIMIT,
    )


def _run_selection(key: str, selection: SelectionForm, *, preview: bool) -> BulkOutcome:
    if not valid_key(key):
        abort(404)
    try:
        return enrol_selection(runtime(), key, selection.selection(), now=utcnow(), preview=preview)
    except CampaignNotFound:
        abort(404)


# ---------------------------------------------------------------- helpers


def _campaign(session: Session, key: str) -> Campaign:
    if not valid_key(key):
        abort(404)
    campaign = session.scalar(select(Campaign).where(Campaign.key == key))
    if campaign is None:
        abort(404)
    return campaign


def _active_number(session: Session, campaign: Campaign) -> int | None:
    if campaign.active_version_id is None:
        return None
    return session.scalar(
        select(CampaignVersion.number).where(CampaignVersion.id == campaign.active_version_id)
    )


def _positions(session: Session, campaign: Campaign) -> tuple[list[str], list[str]]:
    """The track and step ids of the active version (the enrolments page's choices)."""
    if campaign.active_version_id is None:
        return [], []
    spec = campaign_spec_for_version(session, campaign.active_version_id)
    steps = sorted({step.id for track in spec.tracks for step in track.steps})
    return [track.id for track in spec.tracks], steps


def _lead_for(session: Session, email: str) -> tuple[int | None, str | None]:
    form = EnrolOneForm(formdata=None, meta={"csrf": False}, data={"email": email})
    form.email.data = email
    if not form.email.validate(form):
        return None, str(form.email.errors[0])
    lead_id = report.lead_id_for_email(session, form.email.data)
    return lead_id, None if lead_id is not None else _("No lead has this address.")


def _version_number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


def _change(change: Any, key: str) -> Any:
    if not valid_key(key):
        abort(404)
    try:
        return change(runtime(), key, actor=current_user.actor, now=utcnow())
    except CampaignNotFound:
        abort(404)


def _state_reason(reason: str) -> str:
    return {
        "already paused": _("the campaign is already paused"),
        "not paused": _("the campaign is not paused"),
        "campaign is archived": _("the campaign is archived (its file is gone)"),
    }.get(reason, reason)

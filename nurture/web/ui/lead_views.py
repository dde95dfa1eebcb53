"""A lead's pages: the overview (profile, fit, score and its history, lifecycle,
campaigns, timeline, emails, consent, handoffs), the profile edit, one email as sent, and
the admin's data export and erasure. Registered on the ``ui_leads`` blueprint."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import StringField

from nurture.auth import roles
from nurture.leads.profile import BANT_ATTRIBUTES, PROFILE_COLUMNS, edit_profile
from nurture.models import Lead, Message
from nurture.platform.addresses import normalise_email
from nurture.platform.db import transaction, utcnow
from nurture.privacy.preferences import available_topics
from nurture.privacy.rights import UnknownLead, erase_lead, export_lead, record_export
from nurture.rendering.library import template_library
from nurture.reports.lead_email import EmailCopy, email_copy, lead_message
from nurture.reports.lead_page import find_lead, lead_overview, messages_page, timeline_page
from nurture.tracking.links import link_signer
from nurture.web.ui.leads_chart import score_chart
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

_MAX_ID = 2**63 - 1

# The email's own page inside the sandboxed frame: no script at all, the email's inline
# styles, images from anywhere but never the tracking pixel (removed before serving), and
# no framing but by this app.
FRAME_POLICY = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox"
)
_LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "title": _l("Job title"),
    "phone": _l("Phone"),
    "timezone": _l("Time zone"),
    "locale": _l("Language (locale)"),
    "attributes.budget": _l("Budget"),
    "attributes.authority": _l("Authority"),
    "attributes.need": _l("Need"),
    "attributes.timing": _l("Timing"),
}


class ProfileForm(FlaskForm):
    """The profile; the checks are the lead validation's (``edit_profile``)."""

    first_name = StringField(_LABELS["first_name"])
    last_name = StringField(_LABELS["last_name"])
    title = StringField(_LABELS["title"])
    phone = StringField(_LABELS["phone"])
    timezone = StringField(_LABELS["timezone"])
    locale = StringField(_LABELS["locale"])
    budget = StringField(_LABELS["attributes.budget"])
    authority = StringField(_LABELS["attributes.authority"])
    need = StringField(_LABELS["attributes.need"])
    timing = StringField(_LABELS["attributes.timing"])


def _lead_id(lead_id: int) -> int:
    if lead_id > _MAX_ID:
        abort(404)
    return lead_id


def _before(name: str) -> tuple[datetime, int] | None:
    text = request.args.get(name) or ""
    key, _sep, ident = text.rpartition(",")
    if not ident.isdigit() or int(ident) > _MAX_ID:
        return None
    try:
        moment = datetime.fromisoformat(key)
    except ValueError:
        return None
    return (moment, int(ident)) if moment.tzinfo is not None else None


def _form_for(lead: Any) -> ProfileForm:
    form = ProfileForm(formdata=None)
    for name in PROFILE_COLUMNS:
        getattr(form, name).data = getattr(lead, name) or ""
    for name in BANT_ATTRIBUTES:
        value = (lead.attributes or {}).get(name)
        getattr(form, name).data = "" if value is None else str(value)
    return form


def show(lead_id: int) -> Any:
    """The lead's page."""
    return _show(_lead_id(lead_id))


def _show(lead_id: int, form: ProfileForm | None = None, status: int = 200) -> Any:
    hits = request.args.get("hits", "all")
    machine = {"people": False, "machine": True}.get(hits)
    now = utcnow()
    with transaction(runtime().sessions) as session:
        lead = find_lead(session, lead_id)
        if lead is None:
            abort(404)
        overview = lead_overview(session, lead, now)
        timeline = timeline_page(
            session, lead, now, before=_before("before"), machine=machine, overview=overview
        )
        emails = messages_page(session, lead.id, before=_before("emails_before"))
        topics = available_topics(session)
        form = form or _form_for(lead)
        chart = score_chart(overview.history, overview.bands)
        response = page(
            "ui/leads/show.html",
            status=status,
            o=overview,
            lead=lead,
            timeline=timeline,
            emails=emails,
            topics=topics,
            hits=hits if machine is not None else "all",
            form=form,
            chart=chart,
            edit_open=status != 200,
        )
    return response


def edit(lead_id: int) -> Any:
    """Save the profile form: every field checked like the API's; errors beside the
    fields and nothing saved, or back to the page with what changed."""
    lead_id = _lead_id(lead_id)
    form = ProfileForm()
    if not form.validate_on_submit():
        abort(400)
    values = {name: getattr(form, name).data for name in PROFILE_COLUMNS}
    values.update({f"attributes.{n}": getattr(form, n).data for n in BANT_ATTRIBUTES})
    settings = runtime().settings
    with transaction(runtime().sessions) as session:
        lead = find_lead(session, lead_id)
        if lead is None:
            abort(404)
        outcome = edit_profile(
            session,
            lead,
            values,
            now=utcnow(),
            source=current_user.actor,
            default_timezone=settings.default_timezone,
        )
        if outcome.errors:
            session.rollback()
    if outcome.errors:
        for key, reason in outcome.errors.items():
            target = getattr(form, key.removeprefix("attributes."), None)
            if target is not None:
                target.errors = [*target.errors, reason]
            else:
                flash(reason, "error")
        return _show(lead_id, form=form, status=422)
    if outcome.changed:
        flash(_("Profile saved: %(fields)s.", fields=", ".join(outcome.changed)), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("ui_leads.show", lead_id=lead_id) + "#profile")


def _lead_email(session: Session, lead_id: int, message_id: int) -> tuple[Lead, Message, EmailCopy]:
    """The lead, one email it received and that email as sent; the not-found page when the
    lead or the email is unknown, or the email is another lead's."""
    rt = runtime()
    lead = find_lead(session, _lead_id(lead_id))
    found = lead_message(session, lead.id, _lead_id(message_id)) if lead else None
    if lead is None or found is None:
        abort(404)
    signer = link_signer(rt.settings.secret_key)
    copy = email_copy(session, rt.settings, template_library(rt), signer, found, lead)
    return lead, found, copy


def message(lead_id: int, message_id: int) -> Any:
    """One email the lead received: its facts, the email in a sandboxed frame, its links."""
    with transaction(runtime().sessions) as session:
        lead, found, copy = _lead_email(session, lead_id, message_id)
        return page("ui/leads/message.html", lead=lead, message=found, copy=copy)


def message_frame(lead_id: int, message_id: int) -> Any:
    """The email's HTML alone, for the frame of the message page (its own strict policy)."""
    with transaction(runtime().sessions) as session:
        _lead, _found, copy = _lead_email(session, lead_id, message_id)
    response = Response(copy.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def export(lead_id: int) -> Any:
    """Everything held about the person, as a JSON download (a data access request);
    the export is audited."""
    lead_id = _lead_id(lead_id)
    try:
        with transaction(runtime().sessions) as session:
            data = export_lead(session, str(lead_id))
            record_export(
                session,
                data["lead"]["id"],
                data["lead"]["email"],
                actor=current_user.actor,
                now=utcnow(),
            )
    except UnknownLead:
        abort(404)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="lead-{lead_id}.json"',
            "Cache-Control": "no-store",
        },
    )


def erase(lead_id: int) -> Any:
    """Erase the person's data, after typing their address to confirm."""
    lead_id = _lead_id(lead_id)
    error = None
    with transaction(runtime().sessions) as session:
        lead = find_lead(session, lead_id)
        if lead is None:
            abort(404)
        if lead.erased_at is not None:
            flash(_("This person's data is already erased."), "info")
            return redirect(url_for("ui_leads.show", lead_id=lead_id))
        email, name = lead.email, lead.full_name
    if request.method == "POST":
        typed = (request.form.get("confirm") or "").strip()
        try:
            matches = normalise_email(typed) == email
        except ValueError:
            matches = False
        if not matches:
            error = _("Type the lead's email address exactly to confirm.")
        else:
            try:
                with transaction(runtime().sessions) as session:
                    report = erase_lead(
                        session,
                        str(lead_id),
                        now=utcnow(),
                        actor=current_user.actor,
                        instance_path=runtime().settings.instance_path,
                    )
            except UnknownLead:
                abort(404)
            flash(
                _(
                    "Erased: %(messages)s emails and %(events)s events anonymised.",
                    messages=report.messages,
                    events=report.events,
                ),
                "success",
            )
            if report.imports.imports:
                flash(
                    ngettext(
                        "Their rows were also removed from %(num)d lead import.",
                        "Their rows were also removed from %(num)d lead imports.",
                        report.imports.imports,
                    ),
                    "success",
                )
            return redirect(url_for("ui_leads.show", lead_id=lead_id))
    return page(
        "ui/leads/erase.html",
        status=422 if error else 200,
        lead_id=lead_id,
        email=email,
        name=name,
        error=error,
    )


def register(bp: Blueprint) -> None:
    """Add these pages to the leads blueprint, each behind its permission."""
    rules = (
        ("/leads/<int:lead_id>", show, ["GET"], roles.LEADS_VIEW),
        ("/leads/<int:lead_id>/profile", edit, ["POST"], roles.LEADS_EDIT),
        ("/leads/<int:lead_id>/messages/<int:message_id>", message, ["GET"], roles.LEADS_VIEW),
        (
            "/leads/<int:lead_id>/messages/<int:message_id>/frame",
            message_frame,
            ["GET"],
            roles.LEADS_VIEW,
        ),
        ("/leads/<int:lead_id>/export", export, ["POST"], roles.LEADS_EXPORT),
        ("/leads/<int:lead_id>/erase", erase, ["GET", "POST"], roles.LEADS_ERASE),
    )
    for rule, view, methods, permission in rules:
        bp.add_url_rule(rule, view_func=requires(permission)(view), methods=methods)

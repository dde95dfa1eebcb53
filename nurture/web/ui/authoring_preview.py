"""Email previews and test sends (docs/web/authoring.md#preview).

- ``GET /authoring/preview``: choose a template (or a campaign's step) and a lead.
- ``POST /authoring/preview``: render it (from the editor: its unsaved text) and show it.
- ``GET /authoring/preview/<token>``: subject, sender, the HTML at 600 and 375 px in
  sandboxed frames, the plain-text part, and the test send.
- ``GET /authoring/preview/<token>/email.html``: the HTML alone, under a policy of its own
  (styles inline as emails need them, no script, no request anywhere but images).
- ``POST /authoring/preview/<token>/send``: mail it to the signed-in user's own address,
  "[Test]" in the subject, at most ``TEST_SEND_LIMIT`` per user.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse

from nurture.auth import roles
from nurture.authoring import PreviewError, PreviewRequest, make_preview, send_test
from nurture.authoring.checks import send_steps
from nurture.authoring.files import (
    BadName,
    campaign_path,
    language_tag,
    read_text,
    template_folder,
)
from nurture.authoring.preview import DEFAULT_FILES, get_preview
from nurture.leads.queries import get_lead
from nurture.platform.db import transaction, utcnow
from nurture.platform.i18n import shipped_locales
from nurture.rendering.library import TemplateLibrary, template_library
from nurture.web.ui.authoring import MAX_TEXT, bp
from nurture.web.ui.authoring_variants import posted_parts
from nurture.web.ui.render import page
from nurture.web.ui.security import add_page_headers, requires, runtime

TEST_SEND_LIMIT = parse("10/hour")
_HTML_LANG = re.compile(r'<html[^>]*\slang="([A-Za-z0-9-]{2,35})"')

# The frame's own policy: the email's inline styles and its images, nothing else; no
# script even if the template had one, no form, no navigation of the app.
PREVIEW_CSP = (
    "default-src 'none'; img-src data: 'self' https: http:; style-src 'unsafe-inline'; "
    "font-src data: https:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)


@bp.get("/authoring/preview")
@requires(roles.CAMPAIGNS_VIEW)
def preview() -> Any:
    """Choose what to preview."""
    library = template_library(runtime())
    return page(
        "ui/authoring/preview_form.html",
        templates=library.names(),
        chosen=request.args.get("template", ""),
        languages=_languages(library),
        chosen_language=request.args.get("language", ""),
    )


def _languages(library: TemplateLibrary) -> list[str]:
    """The languages to offer: the app's and those any template has a variant in."""
    found = {tag for name in library.names() for tag in library.languages(name)}
    return sorted(found | set(shipped_locales()))


@bp.post("/authoring/preview")
@requires(roles.CAMPAIGNS_VIEW)
def preview_make() -> Any:
    """Render the posted template (or campaign step) for the chosen lead, then show it."""
    form = request.form
    lead = form.get("lead", "").strip()[:320] or None
    campaign_key = form.get("campaign") or None
    step_id = form.get("step") or None
    campaign_name = None
    edited: dict[str, str | None] | None = None
    language = _chosen_language(form.get("language", ""))
    if language == _BAD_LANGUAGE:
        return _form_error(_("Choose a language."), form.get("template", ""), lead)
    if campaign_key:
        template, campaign_name = _step_template(campaign_key, step_id or "")
    else:
        template = form.get("template", "")
        try:
            template_folder(runtime().settings, template)
        except BadName:
            return _form_error(_("Choose a template."), template, lead)
        if form.get("source") == "edited":
            # The editor's files: the default ones, or the variant of the language shown.
            variant = None if language in (None, DEFAULT_FILES) else language
            edited = {
                part: text.replace("\r\n", "\n")
                for part, text in posted_parts(form, variant).items()
            }
    try:
        token = make_preview(
            runtime(),
            PreviewRequest(template, edited, lead, campaign_key, campaign_name, step_id, language),
            user_id=current_user.id,
            now=utcnow(),
        )
    except PreviewError as error:
        return _form_error(error.message, template, lead, error.findings)
    return redirect(url_for("ui_authoring.preview_show", token=token))


_BAD_LANGUAGE = "\0"


def _chosen_language(posted: str) -> str | None:
    """The preview's language: None (the lead's own), the default files, or a variant's
    tag as its files spell it; ``_BAD_LANGUAGE`` for a code that is no language."""
    if not posted:
        return None
    if posted == DEFAULT_FILES:
        return DEFAULT_FILES
    try:
        return language_tag(posted)
    except BadName:
        return _BAD_LANGUAGE


def _step_template(campaign_key: str, step_id: str) -> tuple[str, str]:
    """The template a step of a campaign sends (from the editor's text when posted)."""
    try:
        path = campaign_path(runtime().settings, campaign_key)
    except BadName:
        abort(404)
    text = request.form.get("text") or read_text(path) or ""
    if len(text) > MAX_TEXT:
        abort(413)
    campaign, steps = send_steps(text.replace("\r\n", "\n"))
    for step in steps:
        if step.step == step_id and campaign is not None:
            return step.template, campaign.name
    abort(404)


def _form_error(message: str, template: str, lead: str | None, findings: Any = ()) -> Any:
    library = template_library(runtime())
    return page(
        "ui/authoring/preview_form.html",
        status=422,
        templates=library.names(),
        chosen=template,
        languages=_languages(library),
        chosen_language=request.form.get("language", ""),
        lead=lead or "",
        error=message,
        findings=findings,
    )


@bp.get("/authoring/preview/<token>")
@requires(roles.CAMPAIGNS_VIEW)
def preview_show(token: str) -> Any:
    """The preview: subject, sender, the email at both widths, the text part."""
    with transaction(runtime().sessions) as session:
        shown = get_preview(session, token, user_id=current_user.id, now=utcnow())
        if shown is None:
            abort(404)
        lead_email = None
        if shown.lead_id is not None:
            lead = get_lead(session, str(shown.lead_id))
            lead_email = lead.email if lead is not None else None
        context: dict[str, Any] = {
            "token": token,
            "template_name": shown.template,
            "campaign_key": shown.campaign_key,
            "step_id": shown.step_id,
            "edited": shown.edited,
            "sender": shown.sender,
            "subject": shown.subject,
            "language": _html_language(shown.html),
            "text": shown.text,
            "lead_email": lead_email,
            "created_at": shown.created_at,
        }
    return page("ui/authoring/preview.html", **context)


def _html_language(html: str) -> str | None:
    """The language the email says it is in (``<html lang="pl">``: the variant rendered)."""
    found = _HTML_LANG.search(html[:2000])
    return found.group(1).replace("-", "_") if found else None


@bp.get("/authoring/preview/<token>/email.html")
@requires(roles.CAMPAIGNS_VIEW)
def preview_html(token: str) -> Any:
    """The email's HTML alone, for the preview's sandboxed frames."""
    with transaction(runtime().sessions) as session:
        shown = get_preview(session, token, user_id=current_user.id, now=utcnow())
        if shown is None:
            abort(404)
        html = shown.html
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return add_page_headers(response)


@bp.post("/authoring/preview/<token>/send")
@requires(roles.CAMPAIGNS_EDIT)
def preview_send(token: str) -> Any:
    """Mail the preview to the signed-in user's own address."""
    back = redirect(url_for("ui_authoring.preview_show", token=token))
    with transaction(runtime().sessions) as session:
        shown = get_preview(session, token, user_id=current_user.id, now=utcnow())
        if shown is None:
            abort(404)
        session.expunge(shown)
    limiter = current_app.extensions["nurture.limiter"]
    if not limiter.limiter.hit(TEST_SEND_LIMIT, "authoring.test-send", str(current_user.id)):
        flash(
            _("You have sent %(count)d test emails in the last hour; try again later.", count=10),
            "error",
        )
        return back
    try:
        sent = send_test(runtime(), shown, to=current_user.email)
    except OSError as error:
        flash(_("The test email could not be sent: %(reason)s", reason=str(error)), "error")
        return back
    if sent.result.ok:
        flash(_("Test email sent to %(address)s.", address=sent.to), "success")
    else:
        flash(
            _("The mail server did not take the test email: %(reply)s", reply=sent.result.reply),
            "error",
        )
    return back

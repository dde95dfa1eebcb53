"""Public unsubscribe, preference-centre and double opt-in pages (``/u/<signed>…``).

- ``POST /u/<signed>`` with ``List-Unsubscribe=One-Click`` (RFC 8058) unsubscribes at once:
  no login, no cookie, no CSRF token, 200. The page's own confirm form posts here too,
  with a signed form token instead.
- ``GET``/``HEAD`` never change anything: link scanners and prefetchers open every link.
- Tampered or unknown tokens get a plain "link not valid" page and change nothing.

Pages are autoescaped Jinja with inline styles only (no external assets), and are sent
with ``no-store`` and ``no-referrer`` because their URL carries the person's token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from nurture.consent.brand import current_brand
from nurture.consent.suppression import lift
from nurture.platform.db import transaction, utcnow
from nurture.platform.i18n import shipped_locales
from nurture.platform.pages import PAGE_HEADERS, page_language, page_templates, render_page
from nurture.platform.runtime import Runtime
from nurture.privacy.double_opt_in import confirm
from nurture.privacy.preferences import available_topics, set_topic_opt_outs
from nurture.privacy.unsubscribe import recipient_for_token, unsubscribe_by_token
from nurture.tracking.tokens import MessageSigner

bp = Blueprint("unsubscribe", __name__)

_pages = page_templates("tracking")
_FORM_SALT = "nurture.unsubscribe-form"
# A page left open for a week still works; an old form token from a scraped page does not.
_FORM_MAX_AGE = 7 * 24 * 3600
# Reasons a person may undo themselves from the preference centre; bounces, complaints
# and erasure need an operator or a fresh, confirmed sign-up.
_SELF_SERVICE_RESUBSCRIBE = frozenset({"unsubscribed"})


def _runtime() -> Runtime:
    return current_app.extensions["nurture"]


@bp.before_request
def _read_brand() -> None:
    # The brand's company name heads every page. Read before the view opens its
    # transaction: on SQLite a second session would wait for that one's write lock.
    runtime = _runtime()
    with runtime.sessions() as session:
        g.nurture_company = current_brand(session, runtime.settings).company_name


def _page(name: str, status: int = 200, **context: Any) -> Response:
    html = render_page(_pages, name, _language(), company=g.nurture_company, **context)
    headers = {**PAGE_HEADERS, "Content-Language": _language().replace("_", "-")}
    return Response(html, status=status, mimetype="text/html", headers=headers)


def _language() -> str:
    """The page's language: the lead's when the link names one (set by the view), else the
    browser's preference among the shipped translations, else the instance default."""
    default = _runtime().settings.default_locale
    wanted = g.get("nurture_lead_locale")
    if not wanted:
        wanted = request.accept_languages.best_match(shipped_locales())
    return page_language(wanted, default)


def _remember_language(recipient: Any) -> None:
    # The person's own language beats whatever their browser (or a colleague's, when a
    # link is forwarded) says: the emails they got were in it.
    if recipient is not None and recipient.lead.locale:
        g.nurture_lead_locale = recipient.lead.locale


def _token(signed: str) -> str | None:
    return MessageSigner(_runtime().settings.secret_key).unsign(signed)


def _forms() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_runtime().settings.secret_key, salt=_FORM_SALT)


def form_token(token: str) -> str:
    """A CSRF token for the page forms, bound to the message token (no cookie needed)."""
    return _forms().dumps(token)


def _form_ok(token: str) -> bool:
    try:
        return _forms().loads(request.form.get("csrf_token", ""), max_age=_FORM_MAX_AGE) == token
    except BadSignature:
        return False


def _invalid() -> Response:
    return _page("invalid.html", status=404)


@bp.route("/u/<signed>", methods=["GET", "HEAD"])
def unsubscribe_page(signed: str) -> Response:
    """Ask the person to confirm; never unsubscribes (scanners GET every link)."""
    token = _token(signed)
    if token is None:
        return _invalid()
    with _runtime().sessions() as session:
        recipient = recipient_for_token(session, token)
        if recipient is None:
            return _invalid()
        _remember_language(recipient)
        done = recipient.lead.unsubscribed_at is not None
    return _page("unsubscribe.html", signed=signed, csrf=form_token(token), done=done)


@bp.post("/u/<signed>")
def unsubscribe_post(signed: str) -> Response:
    """RFC 8058 one-click POST, or the confirm button of the page (CSRF-checked)."""
    token = _token(signed)
    if token is None:
        return _invalid()
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click and not _form_ok(token):
        return _page("expired.html", status=400, signed=signed)
    with transaction(_runtime().sessions) as session:
        recipient = unsubscribe_by_token(
            session, token, source="one-click" if one_click else "unsubscribe-page", now=utcnow()
        )
    if recipient is None:
        return _invalid()
    _remember_language(recipient)
    return _page("unsubscribed.html", signed=signed)


@bp.route("/u/<signed>/preferences", methods=["GET", "HEAD"])
def preferences_page(signed: str) -> Response:
    """The preference centre: topics to keep or drop, unsubscribe from all, resubscribe."""
    token = _token(signed)
    if token is None:
        return _invalid()
    with _runtime().sessions() as session:
        recipient = recipient_for_token(session, token)
        if recipient is None:
            return _invalid()
        _remember_language(recipient)
        return _preferences(session, recipient, signed, token, saved=False)


def _preferences(session: Any, recipient: Any, signed: str, token: str, *, saved: bool) -> Response:
    lead = recipient.lead
    opted_out = set(lead.topic_opt_outs or ())
    topics = [
        {"key": t.key, "label": t.label, "wanted": t.key not in opted_out}
        for t in available_topics(session, lead.locale)
    ]
    return _page(
        "preferences.html",
        signed=signed,
        csrf=form_token(token),
        topics=topics,
        unsubscribed=lead.suppressed_at is not None,
        can_resubscribe=lead.suppression_reason in _SELF_SERVICE_RESUBSCRIBE,
        saved=saved,
    )


@bp.post("/u/<signed>/preferences")
def preferences_post(signed: str) -> Response:
    """Save topic choices, unsubscribe from everything, or resubscribe (CSRF-checked)."""
    token = _token(signed)
    if token is None:
        return _invalid()
    if not _form_ok(token):
        return _page("expired.html", status=400, signed=signed)
    action = request.form.get("action", "save")
    now = utcnow()
    with transaction(_runtime().sessions) as session:
        recipient = recipient_for_token(session, token)
        if recipient is None:
            return _invalid()
        _remember_language(recipient)
        lead = recipient.lead
        if action == "unsubscribe":
            unsubscribe_by_token(session, token, source="preference-centre", now=now)
            return _page("unsubscribed.html", signed=signed)
        if action == "resubscribe" and lead.suppression_reason in _SELF_SERVICE_RESUBSCRIBE:
            # Clicking "resubscribe" on their own page is new, explicit consent.
            lift(session, lead, source="preference-centre", now=now, actor="lead")
            lead.consent_status, lead.consent_at = "granted", now
            lead.consent_source = "preference-centre"
        elif action == "save":
            known = {t.key for t in available_topics(session)}
            wanted = set(request.form.getlist("topic"))
            # Topics no campaign declares any more keep whatever the person chose before.
            kept = set(lead.topic_opt_outs or ()) - known
            set_topic_opt_outs(
                session,
                lead,
                kept | (known - wanted),
                now=now,
                actor="lead",
                source="preference-centre",
            )
        session.flush()
        return _preferences(session, recipient, signed, token, saved=True)


@bp.route("/u/<signed>/confirm", methods=["GET", "HEAD"])
def confirm_page(signed: str) -> Response:
    """Double opt-in: a button to confirm (a scanner's GET confirms nothing)."""
    token = _token(signed)
    if token is None:
        return _invalid()
    with _runtime().sessions() as session:
        recipient = recipient_for_token(session, token)
        if recipient is None or recipient.message.kind != "confirmation":
            return _invalid()
        _remember_language(recipient)
        done = recipient.lead.consent_confirmed_at is not None
    return _page("confirm.html", signed=signed, csrf=form_token(token), done=done)


@bp.post("/u/<signed>/confirm")
def confirm_post(signed: str) -> Response:
    """Record the confirmation (CSRF-checked)."""
    token = _token(signed)
    if token is None:
        return _invalid()
    if not _form_ok(token):
        return _page("expired.html", status=400, signed=signed)
    settings = _runtime().settings
    with transaction(_runtime().sessions) as session:
        recipient = confirm(
            session, token, now=utcnow(), ip=request.remote_addr, ip_mode=settings.consent_ip
        )
    if recipient is None:
        return _invalid()
    _remember_language(recipient)
    return _page("confirm.html", signed=signed, csrf="", done=True)

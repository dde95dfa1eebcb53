"""``/settings/sending``: the transport and a test send, the DNS records to publish (DKIM
from the configured key, SPF and DMARC starting points), the warm-up, and the
suppression list (search, and lifting where the consent rules allow it)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from nurture.auth import roles
from nurture.consent.suppression import SuppressionError, lift_by_admin
from nurture.platform.config import ConfigError
from nurture.platform.db import transaction, utcnow
from nurture.platform.smtp_url import redact_url
from nurture.reports.settings import suppressions, warmup
from nurture.sending.direct import build_direct_message, send_now
from nurture.sending.dns_records import dkim_record, dmarc_hint, sending_domain, spf_hint
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page, page_brand
from nurture.web.ui.security import requires, runtime
from nurture.web.ui.settings.blueprint import bp

QUERY_MAX = 320


@bp.get("/settings/sending")
@requires(roles.SETTINGS_MANAGE)
def sending_index() -> Any:
    """Transport, test send, DNS records and warm-up."""
    settings = runtime().settings
    dkim, dkim_problem = None, None
    try:
        dkim = dkim_record(settings)
    except ConfigError as exc:
        dkim_problem = str(exc)
    with transaction(runtime().sessions) as session:
        plan = warmup(session, settings, utcnow())
    return page(
        "ui/settings/sending.html",
        smtp=redact_url(settings.smtp_url) if settings.smtp_url else None,
        mail_from=settings.mail_from,
        domain=sending_domain(settings),
        dkim=dkim,
        dkim_problem=dkim_problem,
        spf=spf_hint(settings),
        dmarc=dmarc_hint(settings),
        warmup=plan,
    )


@bp.post("/settings/sending/test")
@requires(roles.SETTINGS_MANAGE)
def sending_test() -> Any:
    """Send a test email to the signed-in admin through the configured transport; say
    what the server answered, word for word."""
    settings = runtime().settings
    to = current_user.email
    subject = _("Test email from %(company)s", company=page_brand().company_name)
    text = _(
        "This is a test email from Nurture's settings page. It went through the same "
        "transport and DKIM signing as every other email."
    )
    try:
        data = build_direct_message(settings, to=to, subject=subject, text=text)
        result = send_now(settings, runtime().sessions, to=to, subject=subject, data=data)
    except (ConfigError, OSError, ValueError) as exc:
        flash(_("The test email could not be sent: %(error)s", error=str(exc)), "error")
        return redirect(url_for("ui_settings.sending_index"))
    if result.ok:
        where = _("the local outbox") if settings.outbox_enabled else _("the mail server")
        flash(
            _("%(where)s accepted the test email to %(to)s: %(reply)s",
              where=where, to=to, reply=result.reply),
            "success",
        )  # fmt: skip
    else:
        flash(
            _("The mail server refused the test email (%(code)s): %(reply)s",
              code=result.code or _("no answer"), reply=result.reply),
            "error",
        )  # fmt: skip
    return redirect(url_for("ui_settings.sending_index"))


@bp.get("/settings/sending/suppressions")
@requires(roles.SETTINGS_MANAGE)
def suppressions_index() -> Any:
    """The suppression list: every suppressed lead by address, or a search (``?q=``,
    ``?match=exact|prefix``), 50 at a time."""
    return _suppressions()


def _suppressions(status: int = 200, problem: str | None = None) -> Any:
    query = request.args.get("q", "")
    match = request.args.get("match", "prefix")
    match = match if match in ("exact", "prefix") else "prefix"
    after = request.args.get("after") or None
    error = None
    if len(query) > QUERY_MAX or "\x00" in query or (after and len(after) > QUERY_MAX):
        error = _("Search for at most %(n)d characters of an address.", n=QUERY_MAX)
        query, after = "", None
        status = 400
    if match == "exact" and not query.strip():
        match = "prefix"
    with transaction(runtime().sessions) as session:
        found = suppressions(session, query=query, exact=match == "exact", after=after)
    links = page_links(
        "ui_settings.suppressions_index",
        found.next_after,
        bool(after),
        q=query or None,
        match=match,
    )
    return page(
        "ui/settings/suppressions.html",
        rows=found.rows,
        query=query,
        match=match,
        error=error,
        problem=problem,
        next_url=links.next_url,
        first_url=links.first_url,
        status=status,
    )


@bp.post("/settings/sending/suppressions/lift")
@requires(roles.SETTINGS_MANAGE)
def suppression_lift() -> Any:
    """Lift a hard-bounce or manual suppression; refuse unsubscribes and complaints."""
    email = request.form.get("email", "")[:QUERY_MAX]
    try:
        with transaction(runtime().sessions) as session:
            reason = lift_by_admin(session, email, actor=current_user.actor, now=utcnow())
    except SuppressionError as exc:
        return _suppressions(422, problem=str(exc))
    # Neither the flash cookie nor the next URL (access logs) carries the address.
    flash(_("The address is off the suppression list (it was: %(reason)s).", reason=reason),
          "success")  # fmt: skip
    return redirect(url_for("ui_settings.suppressions_index"))

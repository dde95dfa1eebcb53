"""``/settings/audit``: the audit log, newest first, filtered by who, what and when, 50
rows at a time (nurture.reports.audit)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import request
from flask_babel import gettext as _

from nurture.auth import roles
from nurture.platform.db import transaction
from nurture.reports.audit import audit_page, user_actors
from nurture.reports.keyset import parse_moment_cursor
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime
from nurture.web.ui.settings.blueprint import bp

FILTER_MAX = 100


def _day(text: str) -> tuple[date | None, bool]:
    """(the date, whether it was understood) of a YYYY-MM-DD filter value."""
    if not text:
        return None, True
    try:
        return date.fromisoformat(text), True
    except ValueError:
        return None, False


@bp.get("/settings/audit")
@requires(roles.SETTINGS_MANAGE)
def audit() -> Any:
    """Who changed what, when (filters: ``actor``, ``action``, ``since``, ``until``)."""
    args = request.args
    actor = args.get("actor", "").strip()
    action = args.get("action", "").strip()
    since_text, until_text = args.get("since", "").strip(), args.get("until", "").strip()
    errors: dict[str, str] = {}
    for name, value in (("actor", actor), ("action", action)):
        if len(value) > FILTER_MAX or "\x00" in value:
            errors[name] = _("Use at most %(n)d characters.", n=FILTER_MAX)
    since, since_ok = _day(since_text)
    until, until_ok = _day(until_text)
    if not since_ok:
        errors["since"] = _("Use a date like 2026-12-06.")
    if not until_ok:
        errors["until"] = _("Use a date like 2026-12-06.")
    if since and until and until < since:
        errors["until"] = _("The end comes before the start.")
    after = parse_moment_cursor(args.get("after"))
    with transaction(runtime().sessions) as session:
        people = user_actors(session)
        found = (
            audit_page(
                session,
                actor=actor or None,
                action=action or None,
                since=datetime.combine(since, time(0), UTC) if since else None,
                # The end day is included: up to the next midnight.
                until=datetime.combine(until + timedelta(days=1), time(0), UTC) if until else None,
                after=after,
            )
            if not errors
            else None
        )
    filters: dict[str, Any] = {
        "actor": actor or None,
        "action": action or None,
        "since": since_text or None,
        "until": until_text or None,
    }
    links = page_links(
        "ui_settings.audit", found.next_after if found else None, bool(after), **filters
    )
    return page(
        "ui/settings/audit.html",
        rows=found.rows if found else [],
        people=people,
        actor=actor,
        action=action,
        since=since_text,
        until=until_text,
        errors=errors,
        next_url=links.next_url,
        first_url=links.first_url,
        status=400 if errors else 200,
    )

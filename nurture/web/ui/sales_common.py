"""What the sales pages share: the blueprint, the Jinja filters that word an SLA clock,
a due time in the rep's timezone, money and working time (numbers and shares use the
shared ``formatting`` filters), and the refusals of the
handoff's use cases in the reader's language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime as babel_datetime
from flask import Blueprint, abort
from flask_babel import format_currency, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from nurture.handoff.context import local_time
from nurture.handoff.model import HandoffError
from nurture.platform.db import utcnow
from nurture.reports.sales import SlaState
from nurture.web.ui.sales_forms import MAX_ID

bp = Blueprint("ui_sales", __name__)

STATUS_LABELS = {
    "offered": _l("Waiting for you"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "converted": _l("Converted"),
    "reassigned": _l("Reassigned"),
}
# The badge class of each status: text says the state, colour only repeats it.
STATUS_TONES = {
    "offered": "warn",
    "accepted": "good",
    "rejected": "bad",
    "converted": "good",
    "reassigned": "",
}
ACTION_LABELS = {
    "created": _l("Handed off"),
    "assigned": _l("Owner chosen"),
    "unassigned": _l("Nobody available"),
    "notified": _l("Notified"),
    "auto_replied": _l("Auto-reply sent to the lead"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "converted": _l("Outcome recorded"),
    "reassigned": _l("Reassigned"),
    "sla_reminded": _l("SLA reminder sent"),
    "sla_breached": _l("SLA breached"),
    "sla_escalated": _l("SLA escalated"),
}


def check_id(value: int) -> int:
    """``value`` when it can be a database id, else the not-found page."""
    if not 0 < value <= MAX_ID:
        abort(404)
    return value


def duration_text(seconds: float) -> str:
    """``3 h 20 min``, ``2 days 4 h``, ``less than a minute``."""
    seconds = abs(seconds)
    if seconds < 60:
        return _("less than a minute")
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("%(minutes)d min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return ngettext("%(num)d day %(hours)d h", "%(num)d days %(hours)d h", days, hours=hours)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@bp.app_template_filter("sales_when")
def when_text(moment: datetime | None, zone: str | None = None) -> str:
    """A moment in ``zone`` (UTC by default) in the reader's language, with the zone."""
    if moment is None:
        return "—"
    tz = _zone(zone)
    text = babel_datetime(moment, "EEE d MMM y, HH:mm", tzinfo=tz, locale=get_locale())
    return f"{text} ({tz.key})"


@bp.app_template_filter("sales_countdown")
def countdown(sla: SlaState | None, now: datetime | None = None) -> str:
    """Where a handoff's SLA clock stands, computed now: ``due in 3 h 20 min``,
    ``overdue by 40 min``, or how it ended."""
    if sla is None:
        return _("no deadline")
    now = now or utcnow()
    if sla.status == "pending":
        left = (sla.due_at - now).total_seconds()
        if left > 0:
            return _("due in %(time)s", time=duration_text(left))
        return _("overdue by %(time)s", time=duration_text(left))
    if sla.status == "met":
        return _("answered in time")
    if sla.status == "breached":
        return _("deadline missed")
    return _("no deadline (reassigned)")


@bp.app_template_filter("sales_tone")
def sla_tone(sla: SlaState | None, now: datetime | None = None) -> str:
    """The badge class of an SLA state (the words say it too)."""
    if sla is None or sla.status == "void":
        return ""
    if sla.status == "breached" or sla.overdue(now or utcnow()):
        return "bad"
    if sla.status == "met":
        return "good"
    return "warn"


@bp.app_template_filter("sales_money")
def money(value: Decimal | None, currency: str | None) -> str:
    """A deal value in its currency, in the reader's format."""
    if value is None:
        return "—"
    return format_currency(value, currency or "USD")


@bp.app_template_filter("sales_minutes")
def minutes_text(minutes: float | None) -> str:
    """A median response time in working minutes, for people."""
    if minutes is None:
        return "—"
    return duration_text(minutes * 60)


@bp.app_template_filter("sales_local_time")
def lead_local_time(zone: str | None) -> str:
    """What time it is now where the lead is (``nurture.handoff.context.local_time``)."""
    return local_time(zone, utcnow())


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "sales_status_labels": STATUS_LABELS,
        "sales_status_tones": STATUS_TONES,
        "sales_action_labels": ACTION_LABELS,
    }


def refusal(error: HandoffError) -> str:
    """Why a handoff action was refused, for people: the reader's language for the
    refusals a page can meet, the use case's own words for the rest."""
    messages = {
        "not_found": _("This handoff does not exist."),
        "already_accepted": _("This lead was already accepted; nothing was changed."),
        "already_rejected": _("This lead was already rejected; nothing was changed."),
        "already_converted": _("This lead's outcome was already recorded; nothing was changed."),
        "reassigned": _(
            "This lead was reassigned to another rep; nothing was changed. "
            "Its new handoff is linked below."
        ),
        "not_owner": _(
            "This lead is offered to another rep, not to you; nothing was changed. "
            "A sales manager can reassign it."
        ),
        "owner_required": _("This lead has no owner yet: a sales manager assigns it first."),
        "unknown_reason": _("Choose one of the reasons offered."),
        "same_owner": _("That rep already owns this lead."),
        "rep_unavailable": _(
            "That rep cannot take leads (inactive or no longer in the team file)."
        ),
        "unknown_rep": _("That rep is not in the sales team."),
    }
    return messages.get(error.code, error.message)

"""What the owner is told: the handoff notification's content, gathered in the handoff's
transaction and stored on the handoff as JSON-ready data (``Handoff.snapshot``).

Stored rather than recomputed at send time because it is the evidence of what sales saw
when the lead was handed over (the API returns it), and because the engine then renders the
email without touching the lead's history. The signed links are added at render time
(``nurture.handoff.mail``): they depend on the recipient and the instance secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.handoff.committee import missing_roles, role_for_title
from nurture.handoff.next_step import Signal, suggest_next_step
from nurture.handoff.team import Team, WorkingHours
from nurture.handoff.team_fields import parse_working_hours
from nurture.models import Account, Campaign, Enrollment, Event, Lead, Message, SalesRep
from nurture.platform.i18n import DEFAULT_LOCALE, N_, best_locale, shipped_locales, translations
from nurture.scoring import lead_score

# How far back the timeline and "engaged" colleagues look.
TIMELINE_DAYS = 30
TIMELINE_LIMIT = 12
ENGAGED_DAYS = 90
MAX_CONTACTS = 10
DEFAULT_SLA_TEXT = "within 1 business hour"
# Working hours on all seven days, as the emails say it.
EVERY_DAY = N_("every day")
# How the snapshot writes a moment (minutes, UTC): read by people and by ``snapshot_time``.
SNAPSHOT_TIME = "%Y-%m-%d %H:%M UTC"

EVENT_LABELS = {
    "email.opened": "Read email",
    "email.clicked": "Clicked a link",
    "page.viewed": "Visited page",
    "form.submitted": "Filled in form",
    "demo.requested": "Requested a demo",
    "trial.started": "Started a trial",
    "webinar.attended": "Attended a webinar",
    "content.downloaded": "Downloaded content",
}
# Bookkeeping the system writes about a lead, not something the person did.
_NOT_ACTIVITY = (
    "email.sent",
    "email.failed",
    "notification.",
    # The grader regrading a lead is not something the person did.
    "fit.",
    "email.bounced",
    "email.complained",
    "stage.",
    "temperature.",
    "score.",
    "lead.",
    "handoff.",
    "consent.",
    "enrol",
    "suppression.",
)


def lead_campaign(session: Session, lead_id: int) -> str | None:
    """The key of the campaign the lead was most recently enrolled in."""
    return session.scalar(
        select(Campaign.key)
        .join(Enrollment, Enrollment.campaign_id == Campaign.id)
        .where(Enrollment.lead_id == lead_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        .limit(1)
    )


def lead_source(lead: Lead) -> str | None:
    """Where the lead came from: its source, else its UTM source."""
    return lead.source or lead.utm_source


def is_activity(event_type: str) -> bool:
    """True for things the person did (opened, clicked, visited, filled in, asked)."""
    return not event_type.startswith(_NOT_ACTIVITY)


def recent_activity(
    session: Session,
    lead_id: int,
    now: datetime,
    *,
    days: int = TIMELINE_DAYS,
    limit: int = TIMELINE_LIMIT,
) -> list[tuple[Event, str | None]]:
    """The lead's newest human activity (machine hits excluded), with email subjects."""
    rows = session.execute(
        select(Event, Message.subject)
        .outerjoin(Message, Message.id == Event.message_id)
        .where(
            Event.lead_id == lead_id,
            Event.is_machine.is_(False),
            Event.occurred_at >= now - timedelta(days=days),
            Event.occurred_at <= now,
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit * 4)
    ).all()
    return [(event, subject) for event, subject in rows if is_activity(event.type)][:limit]


def timeline_entry(event: Event, subject: str | None, now: datetime) -> dict[str, Any]:
    """One timeline line for the notification."""
    props = event.properties or {}
    label = EVENT_LABELS.get(event.type, event.type)
    if event.type.startswith("email."):
        detail = subject or props.get("subject") or props.get("template") or ""
        if event.type == "email.clicked" and props.get("url"):
            detail = f"{props['url']}" + (f" (in “{subject}”)" if subject else "")
    else:
        form = props.get("form") or props.get("form_name") or props.get("form_id")
        detail = " · ".join(
            str(part)
            for part in (props.get("title"), props.get("url"), form and f"form {form}")
            if part
        )
    return {
        "type": event.type,
        "label": label,
        "detail": detail,
        "at": event.occurred_at.strftime(SNAPSHOT_TIME),
        "ago": ago(now - event.occurred_at),
    }


def snapshot_time(text: object) -> datetime | None:
    """A moment the snapshot wrote (``SNAPSHOT_TIME``) as an aware datetime; None when
    there is none or it does not read as one."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, SNAPSHOT_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def ago(delta: timedelta) -> str:
    """``5 min ago``, ``3 h ago``, ``2 days ago``."""
    seconds = max(delta.total_seconds(), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


def local_time(zone_name: str | None, now: datetime, default: str = "UTC") -> str:
    """``Tue 10:05 (Europe/Berlin)``: the time where the person is."""
    name = zone_name or default
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        name, zone = "UTC", ZoneInfo("UTC")
    return f"{now.astimezone(zone):%a %H:%M} ({name})"


def engaged_contacts(session: Session, lead: Lead, now: datetime) -> list[dict[str, Any]]:
    """The account's other people who engaged (score above zero, or activity in the last
    90 days), most engaged first, with their likely committee role."""
    if lead.account_id is None:
        return []
    others = list(
        session.scalars(
            select(Lead).where(
                Lead.account_id == lead.account_id, Lead.id != lead.id, Lead.erased_at.is_(None)
            )
        )
    )
    if not others:
        return []
    last_seen = dict(
        session.execute(
            select(Event.lead_id, func.max(Event.occurred_at))
            .where(
                Event.lead_id.in_([o.id for o in others]),
                Event.is_machine.is_(False),
                Event.occurred_at >= now - timedelta(days=ENGAGED_DAYS),
                Event.type.in_(tuple(EVENT_LABELS)),
            )
            .group_by(Event.lead_id)
        ).all()
    )
    contacts: list[dict[str, Any]] = []
    for other in others:
        score = other.decayed_score(now)
        if score < 0.5 and other.id not in last_seen:
            continue
        seen = last_seen.get(other.id)
        contacts.append(
            {
                "name": other.full_name,
                "title": other.title,
                "email": other.email,
                "role": role_for_title(other.title),
                "stage": other.stage,
                "score": round(score, 1),
                "temperature": other.temperature,
                "last_activity": ago(now - seen) if seen else None,
            }
        )
    contacts.sort(key=lambda c: -c["score"])
    return contacts[:MAX_CONTACTS]


def _texts(value: Any) -> list[str]:
    """Fit reasons/missing items as lines of text, whatever shape the grader stored."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [f"{key}: {item}" for key, item in value.items()]
    texts = []
    for item in value:
        if isinstance(item, dict):
            text = item.get("text") or item.get("reason") or item.get("label")
            if text is None:
                text = ", ".join(f"{k}: {v}" for k, v in item.items())
            points = item.get("points")
            texts.append(
                f"{text} ({points:+g})"
                if isinstance(points, int | float) and "(" not in str(text)
                else str(text)
            )
        else:
            texts.append(str(item))
    return texts


def fit_of(lead: Lead) -> dict[str, Any]:
    """The lead's fit grade, score, reasons and missing data (read from the fit columns the
    grading side keeps on the lead; all empty when it has not graded the lead)."""
    score = getattr(lead, "fit_score", None)
    missing = getattr(lead, "fit_missing", None)
    return {
        "grade": getattr(lead, "fit_grade", None),
        "score": None if score is None else round(float(score), 1),
        "reasons": _texts(getattr(lead, "fit_reasons", None)),
        "missing": _texts(missing),
        # The field names themselves, which the notification puts in words.
        "missing_fields": [
            str(item["field"])
            for item in missing or []
            if isinstance(item, dict) and item.get("field")
        ],
    }


def score_of(session: Session, lead: Lead, now: datetime) -> dict[str, Any]:
    """The behavioural score now and the rules it comes from (``nurture.scoring``)."""

    explained = lead_score(session, lead, now)
    if explained is None:
        return {
            "value": round(lead.decayed_score(now), 1),
            "temperature": lead.temperature,
            "rules": [],
        }
    rules = [
        {
            "rule": part.rule.id,
            "description": part.rule.description or part.rule.event,
            "events": part.events,
            "points": round(part.now, 1),
            "hand_raiser": part.rule.hand_raiser,
        }
        for part in explained.explanation.rules
        if abs(part.now) >= 0.05
    ][:6]
    return {
        "value": round(explained.explanation.score, 1),
        "temperature": lead.temperature,
        "model": explained.model_name,
        "rules": rules,
    }


def rep_view(
    rep: SalesRep | None, now: datetime, locale: str | None = None
) -> dict[str, Any] | None:
    """The owner as the emails show them, the working days in ``locale``'s language (the
    best shipped one; English when None)."""
    if rep is None:
        return None
    language = best_locale(locale, shipped_locales()) or DEFAULT_LOCALE
    hours: WorkingHours | None
    try:
        hours = parse_working_hours(rep.working_hours)
    except ValueError:
        hours = None
    return {
        "id": rep.id,
        "name": rep.name,
        "first_name": rep.name.split()[0] if rep.name.split() else rep.name,
        "email": rep.email,
        "title": rep.title,
        "phone": rep.phone,
        "timezone": rep.timezone,
        "working_hours": (
            f"{hours.describe(language, translations(language).gettext(EVERY_DAY))} "
            f"({rep.timezone})"
            if hours
            else rep.working_hours
        ),
    }


def account_view(
    account: Account | None,
    team: Team | None,
    contacts: Sequence[dict[str, Any]],
    owner: SalesRep | None,
) -> dict[str, Any] | None:
    """The account with its buying committee."""
    if account is None:
        return None
    roles = [c["role"] for c in contacts]
    return {
        "name": account.name or account.domain,
        "domain": account.domain,
        "industry": account.industry,
        "employees": account.employees,
        "annual_revenue": account.annual_revenue,
        "revenue_text": _money(account.annual_revenue),
        "country": account.country,
        "segment": team.segment_for(account.employees) if team else None,
        "owner": owner.name if owner is not None else None,
        "contacts": list(contacts),
        "roles_covered": sorted({r for r in roles if r != "unknown"}),
        "roles_missing": missing_roles(roles),
    }


def _money(value: int | None) -> str | None:
    if value is None:
        return None
    if value >= 1_000_000_000:
        return f"{value / 1_000_000_000:.1f} bn"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.0f} m"
    return f"{value:,}"


def build_snapshot(
    session: Session,
    lead: Lead,
    *,
    rule: str,
    reasons: Iterable[str],
    hand_raiser: bool,
    team: Team | None,
    owner: SalesRep | None,
    assignment: dict[str, Any],
    campaign: str | None,
    now: datetime,
    default_timezone: str = "UTC",
) -> dict[str, Any]:
    """Everything the notification shows, as JSON-ready data."""
    account = lead.account
    account_owner = (
        session.get(SalesRep, account.owner_id) if account and account.owner_id else None
    )
    contacts = engaged_contacts(session, lead, now)
    activity = recent_activity(session, lead.id, now)
    fit = fit_of(lead)
    lead_role = role_for_title(lead.title)
    signals = [
        Signal(
            type=event.type,
            url=(event.properties or {}).get("url"),
            form=(event.properties or {}).get("form") or (event.properties or {}).get("form_name"),
        )
        for event, _ in activity
    ]
    step = suggest_next_step(
        signals,
        hand_raiser=hand_raiser,
        missing=fit["missing"],
        lead_role=lead_role,
        committee=[(c["name"], c["role"]) for c in contacts],
    )
    return {
        "lead": {
            "id": lead.id,
            "name": lead.full_name,
            "first_name": lead.first_name,
            "title": lead.title,
            "role": lead_role,
            "email": lead.email,
            "phone": lead.phone,
            "timezone": lead.timezone or default_timezone,
            "local_time": local_time(lead.timezone, now, default_timezone),
            "company": (account.name or account.domain) if account else None,
            "source": lead_source(lead),
            "campaign": campaign,
        },
        "account": account_view(account, team, contacts, account_owner),
        "why": {
            "rule": rule,
            "reasons": [str(r) for r in reasons],
            "hand_raiser": hand_raiser,
            "hand_raised_at": lead.hand_raised_at.strftime(SNAPSHOT_TIME)
            if lead.hand_raised_at
            else None,
            "fit": fit,
            "score": score_of(session, lead, now),
        },
        "timeline": [timeline_entry(event, subject, now) for event, subject in activity],
        "next_step": {
            "action": step.action,
            "because": step.because,
            "prepare": list(step.prepare),
        },
        # The SLA side fills these (deadline from the owner's working hours).
        "sla": {"deadline": DEFAULT_SLA_TEXT, "due_at": None},
        "owner": rep_view(owner, now),
        "assignment": assignment,
        "created_at": now.strftime(SNAPSHOT_TIME),
    }

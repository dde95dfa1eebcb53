"""The sales notification as the rep reads it: the stored snapshot (``nurture.handoff.context``)
turned into words at the moment the email is rendered.

The snapshot keeps facts (event types, field names, moments in UTC); this module gives them
the words people read, in the recipient's language:

- event types become labels ("Requested a demo", never ``demo.requested`` or
  ``fit.changed``), and ICP fields become names ("annual revenue", never
  ``account.annual_revenue``);
- relative times ("12 min ago"), the lead's local time and the "why now" lines are computed
  for the moment of rendering, so a notification sent after a retry is not frozen at the
  moment of the handoff;
- every string goes through gettext (the app's catalogues, ``nurture.platform.i18n``); the
  templates call the same ``_``/``ngettext`` the context carries.

Pure apart from reading the catalogues once per language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from nurture.handoff.context import EVERY_DAY, snapshot_time
from nurture.handoff.team_fields import parse_working_hours
from nurture.platform.event_types import BUILT_IN, CUSTOM_PREFIX
from nurture.platform.i18n import DEFAULT_LOCALE, N_, TRANSLATIONS

# What people did, in the words sales uses. Bookkeeping types never reach the timeline
# (``nurture.handoff.context.is_activity``); ``fit.changed`` has a label for older snapshots.
EVENT_LABELS: dict[str, str] = {
    "email.opened": N_("Read an email"),
    "email.clicked": N_("Clicked a link"),
    "email.unsubscribed": N_("Unsubscribed"),
    "page.viewed": N_("Visited a page"),
    "form.submitted": N_("Filled in a form"),
    "demo.requested": N_("Requested a demo"),
    "trial.started": N_("Started a trial"),
    "webinar.attended": N_("Attended a webinar"),
    "content.downloaded": N_("Downloaded content"),
    "fit.changed": N_("Fit grade changed"),
}
# The ICP's fields as sales would say them (``nurture.qualification.icp`` field names).
FIELD_LABELS: dict[str, str] = {
    "title": N_("job title"),
    "source": N_("source"),
    "country": N_("country"),
    "phone": N_("phone"),
    "account.industry": N_("industry"),
    "account.employees": N_("number of employees"),
    "account.annual_revenue": N_("annual revenue"),
    "account.branches": N_("number of branches"),
    "account.country": N_("company country"),
    "account.name": N_("company name"),
    "account.domain": N_("company website"),
    "attributes.budget": N_("budget"),
    "attributes.authority": N_("authority"),
    "attributes.need": N_("need"),
    "attributes.timing": N_("timing"),
}
ROLE_LABELS: dict[str, str] = {
    "decision maker": N_("decision maker"),
    "champion": N_("champion"),
    "technical evaluator": N_("technical evaluator"),
    "finance": N_("finance"),
    "user": N_("user"),
    "unknown": N_("role unknown"),
}
TEMPERATURE_LABELS: dict[str, str] = {"cold": N_("cold"), "warm": N_("warm"), "hot": N_("hot")}
# The hand-raiser rules of the bundled scoring file (campaigns/scoring.yaml), whose
# descriptions the notification quotes: marked so that every shipped language has them.
BUNDLED_HAND_RAISES = (
    N_("Asked for a demo"),
    N_("Contact-sales or quote form"),
    N_("Started a free trial"),
)
# What the snapshot says when no SLA clock runs (``nurture.handoff.sla.service``).
NO_SLA = N_("as soon as you can")
_DESCRIPTIONS = {event.name: event.description for event in BUILT_IN}
# Activity lines the phone version shows; the rest is one link away.
ACTIVITY_SHOWN = 3
CONTACTS_SHOWN = 2


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The app's catalogue for ``locale`` (English, the source language, when there is none)."""
    return Translations.load(str(TRANSLATIONS), [locale, DEFAULT_LOCALE])


class Words:
    """gettext for one language, shaped for templates: ``_("Hi %(name)s", name=…)`` and
    ``ngettext(one, many, n)`` (``%(num)d`` is ``n``), as Flask-Babel's are; and Babel's
    dates in the same language (``moment``)."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = locale
        self._catalogue = translations(locale)
        try:
            self.babel = Locale.parse(locale.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            self.babel = Locale.parse(DEFAULT_LOCALE)

    def pgettext(self, context: str, message: str) -> str:
        """``message`` translated in ``context`` (a Babel pattern the translator chooses)."""
        return str(self._catalogue.pgettext(context, message))

    def moment(self, moment: datetime, pattern: str, zone: tzinfo | None = None) -> str:
        """``moment`` written with the Babel ``pattern`` in this language (in ``zone``)."""
        return str(format_datetime(moment, pattern, tzinfo=zone, locale=self.babel))

    def day(self, moment: datetime) -> str:
        """The UTC day of ``moment`` as this language writes a date (``Nov 24, 2026``,
        ``24 lis 2026``)."""
        return str(format_date(moment.astimezone(UTC), "medium", locale=self.babel))

    def gettext(self, message: str, **variables: Any) -> str:
        """``message`` translated, with ``%(name)s`` variables filled in."""
        text = self._catalogue.gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        """The form for ``num``, translated, with ``num`` and ``variables`` filled in."""
        return self._catalogue.ngettext(singular, plural, num) % {"num": num, **variables}

    def template_functions(self) -> dict[str, Any]:
        """What a template calls: ``_`` and ``ngettext``; and ``locale``, whose conventions
        the formatting filters (``number``, ``date``, …) follow."""
        return {"_": self.gettext, "ngettext": self.ngettext, "locale": self.locale}


def zone_named(name: str | None) -> tuple[str, ZoneInfo]:
    """The timezone called ``name`` (and its name); UTC when there is none or it is
    unknown."""
    try:
        return (name, ZoneInfo(name)) if name else ("UTC", ZoneInfo("UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", ZoneInfo("UTC")


def local_time_text(words: Words, zone_name: str | None, now: datetime) -> str:
    """``Tue 10:05 (Europe/Berlin)``, ``wt. 10:05 (Europe/Berlin)``: the time where the
    person is."""
    name, zone = zone_named(zone_name)
    return f"{words.moment(now, 'EEE HH:mm', zone)} ({name})"


_POLICY_RE = re.compile(r"^(\d+) business (hour|minute|second)s?$")


def policy_text(words: Words, policy: str | None) -> str:
    """The SLA as recorded (``4 business hours``: ``SlaPolicy.describe``) in the reader's
    language; text of another shape as it is."""
    match = _POLICY_RE.match(policy or "")
    if match is None:
        return policy or ""
    count, unit = int(match.group(1)), match.group(2)
    if unit == "hour":
        return words.ngettext("%(num)d business hour", "%(num)d business hours", count)
    if unit == "minute":
        return words.ngettext("%(num)d business minute", "%(num)d business minutes", count)
    return words.ngettext("%(num)d business second", "%(num)d business seconds", count)


def deadline_text(words: Words, due_at: datetime, zone_name: str | None, policy: str | None) -> str:
    """What the notification says after "Please answer": ``by Tue 3 Dec, 10:30
    (America/New_York time; 1 business hour)``, the day as the translator's Babel pattern
    writes it."""
    name, zone = zone_named(zone_name)
    pattern = words.pgettext("Babel date pattern: the day an SLA deadline falls on", "EEE d MMM")
    values = {
        "day": words.moment(due_at, pattern, zone),
        "time": words.moment(due_at, "HH:mm", zone),
        "zone": name,
        "policy": policy_text(words, policy),
    }
    return words.gettext("by %(day)s, %(time)s (%(zone)s time; %(policy)s)", **values)


def utc_moment_text(words: Words, moment: datetime) -> str:
    """A moment in UTC as the reader writes dates: ``Wed 25 Nov, 09:30 UTC``."""
    pattern = words.pgettext("Babel date pattern: the day an SLA deadline falls on", "EEE d MMM")
    utc = ZoneInfo("UTC")
    return f"{words.moment(moment, pattern, utc)}, {words.moment(moment, 'HH:mm', utc)} UTC"


def working_hours_text(words: Words, hours: str | None, zone_name: str | None) -> str:
    """Working hours written in the team file's notation (``mon-fri 09:00-17:30``) as the
    reader says them: ``pon.–pt. 09:00–17:30 (Europe/Berlin)``; as written when they do
    not parse."""
    try:
        parsed = parse_working_hours(hours or "")
    except ValueError:
        text = hours or ""
    else:
        text = parsed.describe(words.locale, words.gettext(EVERY_DAY))
    return f"{text} ({zone_name})" if zone_name else text


def sla_words(words: Words, sla: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot's ``sla`` with its ``deadline`` and ``policy`` in the reader's language
    (snapshots that did not record the timezone keep the text they stored)."""
    shown = dict(sla)
    due_at = snapshot_moment(sla.get("due_at"))
    if due_at is not None and sla.get("timezone"):
        shown["deadline"] = deadline_text(words, due_at, sla["timezone"], sla.get("policy"))
    elif isinstance(sla.get("deadline"), str):
        # The text stored without a clock ("as soon as you can") is a catalogue key.
        shown["deadline"] = words.gettext(sla["deadline"])
    if sla.get("policy"):
        shown["policy"] = policy_text(words, sla["policy"])
    return shown


def snapshot_moment(text: object) -> datetime | None:
    """An ISO 8601 moment the snapshot stored (``2026-12-07T10:00:00Z``), or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def next_step_words(words: Words, step: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The suggested next step in the reader's language (its sentences are catalogue keys:
    ``nurture.handoff.next_step``)."""
    if not step:
        return None
    return {
        **step,
        "action": words.gettext(str(step.get("action") or "")),
        "because": words.gettext(str(step.get("because") or "")),
    }


def assignment_words(words: Words, assignment: Mapping[str, Any] | None) -> dict[str, Any]:
    """How the owner was chosen, said in the reader's language from the facts the
    assignment recorded (older snapshots keep their English reason)."""
    shown = dict(assignment or {})
    method = shown.get("method")
    if "country" not in shown and "segment" not in shown:
        return shown
    lead = words.gettext(
        "%(country)s, %(segment)s",
        country=shown.get("country") or words.gettext("unknown country"),
        segment=shown.get("segment") or words.gettext("unknown size"),
    )
    if method == "unassigned":
        reason = (
            words.gettext("No assignment rule matched %(lead)s", lead=lead)
            if shown.get("no_rule")
            else words.gettext("Nobody is available for %(lead)s", lead=lead)
        )
        skipped = shown.get("skipped_count") or 0
        if skipped:
            reason += " " + words.ngettext(
                "(%(num)d rep is away, inactive or at capacity)",
                "(%(num)d reps are away, inactive or at capacity)",
                int(skipped),
            )
        shown["reason"] = reason
    return shown


def ago(words: Words, delta: timedelta) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago`` in the reader's language."""
    seconds = max(delta.total_seconds(), 0)
    if seconds < 60:
        return words.gettext("just now")
    if seconds < 3600:
        return words.ngettext("%(num)d min ago", "%(num)d min ago", int(seconds // 60))
    if seconds < 86400:
        return words.ngettext("%(num)d h ago", "%(num)d h ago", int(seconds // 3600))
    return words.ngettext("%(num)d day ago", "%(num)d days ago", int(seconds // 86400))


def event_label(words: Words, event_type: str) -> str:
    """What the person did, for an event type: the label, else a custom type's own name
    (``custom.price_calculator`` → "Price calculator"), else the catalogue's description."""
    label = EVENT_LABELS.get(event_type)
    if label is not None:
        return words.gettext(label)
    if event_type.startswith(CUSTOM_PREFIX):
        return event_type[len(CUSTOM_PREFIX) :].replace("_", " ").replace("-", " ").capitalize()
    described = _DESCRIPTIONS.get(event_type)
    return described[:1].upper() + described[1:] if described else event_type


def field_label(words: Words, field: str) -> str:
    """The name people use for an ICP field (``attributes.x_y`` → "x y" when unknown)."""
    label = FIELD_LABELS.get(field)
    if label is not None:
        return words.gettext(label)
    return field.rsplit(".", 1)[-1].replace("_", " ")


def role_label(words: Words, role: str | None) -> str:
    """A committee role in the reader's language."""
    return words.gettext(ROLE_LABELS.get(role or "unknown", ROLE_LABELS["unknown"]))


def present(
    snapshot: Mapping[str, Any], now: datetime, words: Words, *, details_url: str
) -> dict[str, Any]:
    """The snapshot with what the phone version shows, computed for ``now``: ``who``,
    ``why_now``, ``activity`` (the newest few, labelled, with fresh relative times),
    ``committee``, ``ask_about``, ``local_time``, ``role_label`` and ``details_url``."""
    lead = dict(snapshot.get("lead") or {})
    why = snapshot.get("why") or {}
    lead["local_time"] = local_time_text(words, lead.get("timezone"), now)
    lead["role_label"] = role_label(words, lead.get("role"))
    timeline = list(snapshot.get("timeline") or [])
    activity = [_activity_line(words, item, now) for item in timeline]
    account = snapshot.get("account")
    return {
        **snapshot,
        "lead": lead,
        "why_now": why_now(snapshot, now, words),
        "activity": activity[:ACTIVITY_SHOWN],
        "activity_more": max(len(activity) - ACTIVITY_SHOWN, 0),
        "committee": _committee(words, account),
        "ask_about": _ask_about(words, why.get("fit") or {}),
        "details_url": details_url,
        "next_step": next_step_words(words, snapshot.get("next_step")),
        "sla": sla_words(words, snapshot.get("sla") or {}),
        "assignment": assignment_words(words, snapshot.get("assignment")),
        "score_text": _number_text(words, (why.get("score") or {}).get("value")),
        "temperature_label": _temperature(words, (why.get("score") or {}).get("temperature")),
        "created_text": _created_text(words, snapshot.get("created_at")),
    }


def _activity_line(words: Words, item: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    at = snapshot_time(item.get("at"))
    return {
        "label": event_label(words, str(item.get("type") or "")),
        "detail": item.get("detail") or "",
        "ago": ago(words, now - at) if at else "",
    }


def _committee(words: Words, account: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not account:
        return None
    contacts = account.get("contacts") or []
    return {
        "people": [
            {"name": person.get("name"), "role": role_label(words, person.get("role"))}
            for person in contacts[:CONTACTS_SHOWN]
        ],
        "more": max(len(contacts) - CONTACTS_SHOWN, 0),
        "missing": [role_label(words, role) for role in account.get("roles_missing") or []],
    }


def _ask_about(words: Words, fit: Mapping[str, Any]) -> list[str]:
    """The missing ICP fields in words, for the rep to ask about on the call."""
    fields = fit.get("missing_fields")
    if not isinstance(fields, list):
        # Snapshots from before ``missing_fields`` hold the grader's text only
        # ("attributes.budget (for budget, up to 10 points)"): the field comes first.
        fields = [
            re.split(r"[ ,(]", str(text).removeprefix("field: "), maxsplit=1)[0]
            for text in fit.get("missing") or []
        ]
    labels = [field_label(words, str(field)) for field in fields if field]
    return list(dict.fromkeys(labels))


def why_now(snapshot: Mapping[str, Any], now: datetime, words: Words) -> list[str]:
    """Up to three short lines: the hand-raise and when, the engagement, the fit."""
    why = snapshot.get("why") or {}
    lines: list[str] = []
    if why.get("hand_raiser"):
        raised = snapshot_time(why.get("hand_raised_at"))
        what = _hand_raise_label(snapshot, words)
        lines.append(
            words.gettext("%(what)s, %(when)s", what=what, when=ago(words, now - raised))
            if raised
            else what
        )
    score = why.get("score") or {}
    if score.get("value") is not None:
        temperature = TEMPERATURE_LABELS.get(str(score.get("temperature")), "")
        lines.append(
            words.gettext(
                "Engagement %(score)s (%(temperature)s)",
                score=_number_text(words, score["value"]),
                temperature=words.gettext(temperature) if temperature else "",
            ).replace(" ()", "")
        )
    fit = why.get("fit") or {}
    if fit.get("grade"):
        lines.append(words.gettext("Fit grade %(grade)s", grade=fit["grade"]))
    return lines


def _hand_raise_label(snapshot: Mapping[str, Any], words: Words) -> str:
    """What the hand-raise was: the scoring rule that marked it, else the event at its
    moment, else "Raised a hand"."""
    why = snapshot.get("why") or {}
    for rule in (why.get("score") or {}).get("rules") or []:
        if rule.get("hand_raiser") and rule.get("description"):
            # The bundled scoring file's descriptions are in the catalogue; a marketer's
            # own are shown as they wrote them.
            return words.gettext(str(rule["description"]))
    for item in snapshot.get("timeline") or []:
        if item.get("at") == why.get("hand_raised_at") and item.get("type"):
            return event_label(words, str(item["type"]))
    return words.gettext("Raised a hand")


def _number_text(words: Words, value: Any) -> str:
    """A score as the reader writes numbers (``41,5`` in Polish), one decimal at most."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "" if value is None else str(value)
    return str(format_decimal(round(value, 1), format="#,##0.#", locale=words.babel))


def _temperature(words: Words, temperature: Any) -> str:
    label = TEMPERATURE_LABELS.get(str(temperature))
    return words.gettext(label) if label else str(temperature or "")


def _created_text(words: Words, created: Any) -> str:
    moment = snapshot_time(created)
    return utc_moment_text(words, moment) if moment else str(created or "")

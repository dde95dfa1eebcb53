"""The words a campaign file may use: its field names, condition and trigger forms, the lead
and account fields conditions compare, and the synonyms behind "did you mean" suggestions.

The grammar (``nurture.campaigns.parser``, ``.tracks`` and ``.conditions``) reads files with
these words; the drip facts (``nurture.campaigns.facts``) gather exactly the fields named
here, so a condition can only name a field the engine knows.
"""

from __future__ import annotations

import re

from nurture.leads.fields import CONDITION_FIELDS

TOP_FIELDS = (
    "id",
    "name",
    "description",
    "topic",
    "entry",
    "re_entry",
    "send_window",
    "frequency_cap",
    "utm",
    "exit",
    "goal",
    "tracks",
)
ENTRY_FIELDS = ("triggers", "audience", "manual")
TRACK_FIELDS = ("when", "steps")
WHEN_FIELDS = ("stage", "temperature")
STEP_KINDS = ("send", "wait", "if", "exit")
STEP_FIELDS = {
    "send": ("id", "send"),
    "wait": ("id", "wait"),
    "if": ("id", "if", "then", "else"),
    "exit": ("id", "exit"),
}
ALL_STEP_FIELDS = ("id", "send", "wait", "if", "then", "else", "exit")
WAIT_FIELDS = ("duration", "until", "at")
EXIT_STEP_FIELDS = ("reason", "goal")
EXIT_RULE_FIELDS = ("when", "reason")
RE_ENTRY_FIELDS = ("policy", "cooldown")
WINDOW_FIELDS = ("days", "hours", "timezone")
CAP_FIELDS = ("max", "per")
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
# ``topic: {key: porady-ksef, label: {pl: Porady KSeF, en: KSeF tips}}``.
TOPIC_FIELDS = ("key", "label")
# A label's language: ``pl``, ``en``, ``pt-BR``, ``de_AT``.
LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")
CONDITION_KEYS = (
    "opened",
    "clicked",
    "stage",
    "temperature",
    "score",
    "attribute",
    "event",
    "unsubscribed",
    "all",
    "any",
    "not",
)
CLICKED_FIELDS = ("step", "url")
EVENT_FIELDS = ("type", "within")
SCORE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
TRIGGER_FORMS = ("lead_created", "event", "stage_changed", "attribute_changed")

# The names an ``attribute`` condition may compare: exactly what the engine gathers for
# a lead (``nurture.campaigns.facts.lead_fields`` reads these same tuples); anything else
# would never match. The lead's come from the one field catalogue.
LEAD_FIELD_NAMES = CONDITION_FIELDS
ACCOUNT_FIELD_NAMES = (
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "branches",
    "country",
)

# Words people reach for that mean one of a campaign's names. difflib only catches typos
# ("wiat"), not synonyms ("delay"), so the common ones are listed here.
SYNONYMS = {
    "delay": "wait",
    "pause": "wait",
    "sleep": "wait",
    "email": "send",
    "mail": "send",
    "template": "send",
    "condition": "if",
    "goto": "then",
    "next": "then",
    "otherwise": "else",
    "stop": "exit",
    "end": "exit",
    "exits": "exit",
    "stages": "stage",
    "lifecycle": "stage",
    "temperatures": "temperature",
    "temp": "temperature",
    "and": "all",
    "or": "any",
    "trigger": "triggers",
    "window": "send_window",
    "cap": "frequency_cap",
    "reentry": "re_entry",
    "track": "tracks",
    "step": "steps",
    "events": "event",
    "unsubscribe": "unsubscribed",
    "open": "opened",
    "opens": "opened",
    "click": "clicked",
    "clicks": "clicked",
    "tz": "timezone",
    "zone": "timezone",
    "weekdays": "days",
    "time": "hours",
    "limit": "max",
    "count": "max",
    "within": "per",
    "field": "name",
    "title": "name",
}

# Track and step ids (enrolments store them; `then:`, `opened:` and `clicked:` name them).
STEP_ID_RULE = "letters, digits, '-', '_', '.' and '?'"
STEP_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.?-]*$")
TEMPLATE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EVENT_TYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
# Column sizes of the rows these values end up in (exit reasons, event types).
MAX_REASON = 200
MAX_EVENT_TYPE = 60

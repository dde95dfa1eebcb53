"""PURE: the catalogue of event types a lead's timeline can hold.

Campaign conditions, triggers and goals, scoring rules and the readiness file name event
types as text. A misspelt name (``demo_requested`` for ``demo.requested``) used to be
accepted and simply never matched, so a goal never fired; every marketer file now checks the
names it uses against this one catalogue. Types outside it are the ``custom.NAME`` events a
site sends through ``POST /api/v1/events``. A team may declare its own in an event types file
(``NURTURE_EVENTS_FILE``, read by ``nurture.files.event_catalogue``): once it exists, only the
``custom.`` types it declares are known, so a misspelt custom name is caught too, and a type
declared with a list of properties carries only those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CUSTOM_PREFIX = "custom."
# The API's form of a custom type: lower case, digits, ``_ . -``, at most 57 characters.
CUSTOM_RE = re.compile(r"custom\.[a-z0-9][a-z0-9_.-]{0,50}")


@dataclass(frozen=True)
class EventType:
    """A built-in event type: its name, what it means, and the properties it carries."""

    name: str
    description: str
    # Built-in types: the properties the engine itself sets (API events carry what the
    # sender sends). A declared custom type: the only properties it carries, or None when
    # it was declared without a list (it carries any).
    properties: tuple[str, ...] | None = ()


BUILT_IN: tuple[EventType, ...] = (
    EventType("email.sent", "a campaign email was accepted by the mail server"),
    EventType("email.failed", "a campaign email could not be delivered"),
    EventType("email.opened", "the open pixel of an email was loaded", ("hit_id",)),
    EventType("email.clicked", "a tracked link was followed", ("hit_id", "url", "link")),
    EventType("email.bounced", "the address bounced"),
    EventType("email.complained", "the lead marked an email as spam"),
    EventType("email.unsubscribed", "the lead unsubscribed"),
    EventType("notification.sent", "mail to the sales team about this lead was sent"),
    EventType("notification.failed", "mail to the sales team about this lead failed"),
    EventType("page.viewed", "a page of the website was viewed", ("url", "title", "referrer")),
    EventType("form.submitted", "a website form was sent", ("url", "title", "referrer", "form")),
    EventType("demo.requested", "the lead asked for a demo (API)"),
    EventType("trial.started", "the lead started a trial (API)"),
    EventType("webinar.attended", "the lead attended a webinar (API)"),
    EventType("content.downloaded", "the lead downloaded content (API)"),
    EventType("stage.changed", "the lifecycle stage moved", ("from", "to", "reason", "actor")),
    EventType("lead.created", "the lead was created", ("source", "changed", "stage")),
    EventType("lead.updated", "the lead's data changed", ("source", "changed", "stage")),
    EventType(
        "lead.hand_raised",
        "a hand-raiser scoring rule matched (written by scoring)",
        ("event_id", "event_type", "rule", "raised_at"),
    ),
    EventType(
        "temperature.changed",
        "the temperature band changed (written by scoring)",
        ("from", "to", "score"),
    ),
)

BUILT_IN_NAMES: frozenset[str] = frozenset(event.name for event in BUILT_IN)


BY_NAME: dict[str, EventType] = {event.name: event for event in BUILT_IN}


def is_known(name: str) -> bool:
    """True for a built-in type and for any ``custom.NAME`` type."""
    return name in BUILT_IN_NAMES or (name.startswith(CUSTOM_PREFIX) and len(name) > 7)


@dataclass(frozen=True)
class EventCatalogue:
    """The event types files and the API may name: the built-in ones, and either any
    ``custom.NAME`` (no event types file) or exactly the custom types ``declared`` in the
    file at ``source``."""

    declared: tuple[EventType, ...] = ()
    source: str | None = None

    @property
    def strict(self) -> bool:
        """Whether custom types must be declared (an event types file exists)."""
        return self.source is not None

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a type of this catalogue."""
        if name in BUILT_IN_NAMES:
            return True
        if self.strict:
            return any(event.name == name for event in self.declared)
        return is_known(name)

    def names(self) -> list[str]:
        """Every named type, for "did you mean" suggestions."""
        return sorted(BUILT_IN_NAMES | {event.name for event in self.declared})

    def type(self, name: str) -> EventType | None:
        """The built-in or declared type ``name``; None for an undeclared custom one."""
        found = BY_NAME.get(name)
        if found is not None:
            return found
        return next((event for event in self.declared if event.name == name), None)

    def closed_properties(self, name: str) -> tuple[str, ...] | None:
        """The only properties an event of type ``name`` carries: a declared custom type's
        list. None when it may carry any: built-in types (the API's carry what the sender
        sends, the engine's what it needs), custom types declared without a list."""
        if name in BUILT_IN_NAMES:
            return None
        event = self.type(name)
        return None if event is None else event.properties


# No event types file: every custom.NAME is known, and carries any properties.
ANY_CUSTOM = EventCatalogue()

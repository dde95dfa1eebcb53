"""PURE: the catalogue of event types a lead's timeline can hold.

Campaign conditions, triggers and goals, scoring rules and the readiness file name event
types as text. A misspelt name (``demo_requested`` for ``demo.requested``) used to be
accepted and simply never matched, so a goal never fired; every marketer file now checks the
names it uses against this one catalogue. Types outside it are the ``custom.NAME`` events a
site sends through ``POST /api/v1/events`` (the API accepts that namespace, and the files may
name any type in it).
"""

from __future__ import annotations

from dataclasses import dataclass

CUSTOM_PREFIX = "custom."


@dataclass(frozen=True)
class EventType:
    """A built-in event type: its name, what it means, and the properties it carries."""

    name: str
    description: str
    # Only the properties the engine itself sets; API events carry what the sender sends.
    properties: tuple[str, ...] = ()


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


def is_known(name: str) -> bool:
    """True for a built-in type and for any ``custom.NAME`` type."""
    return name in BUILT_IN_NAMES or (name.startswith(CUSTOM_PREFIX) and len(name) > 7)

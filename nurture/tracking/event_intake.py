"""PURE: validating server-side events (``POST /api/v1/events``) before they are captured.

An event names its lead by ``email`` (an unknown address is kept and merged when the lead
appears) and/or by the website ``visitor_id``; it has a ``type``, optional ``properties``
and an ``occurred_at`` (default: when it arrives).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nurture.platform.addresses import normalise_email
from nurture.platform.event_types import ANY_CUSTOM, CUSTOM_RE, EventCatalogue

EVENT_TYPES = (
    "form.submitted",
    "demo.requested",
    "trial.started",
    "webinar.attended",
    "content.downloaded",
    "page.viewed",
)
_VISITOR_RE = re.compile(r"[A-Za-z0-9_:-]{8,64}")
FIELDS = ("type", "email", "visitor_id", "occurred_at", "properties", "url")
MAX_PROPERTIES_BYTES = 8 * 1024
# Clocks disagree a little; an event further in the future is a mistake.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class IncomingEvent:
    """A valid event, ready to be captured."""

    type: str
    occurred_at: datetime
    email: str | None = None
    visitor_id: str | None = None
    url: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def validate_event(
    data: Any,
    now: datetime,
    catalogue: EventCatalogue = ANY_CUSTOM,
    *,
    simulated: bool = False,
) -> tuple[IncomingEvent | None, dict[str, str]]:
    """The event, or None and one reason per field. ``now`` is the instance's time: the
    simulated one when ``simulated`` (an ``occurred_at`` may then be as late as it). With
    an event types file (``catalogue``), a custom type must be declared there, and one
    declared with a list of properties carries only those."""
    if not isinstance(data, dict):
        return None, {"_": "an event must be a JSON object"}
    errors: dict[str, str] = {}
    for name in data:
        if name not in FIELDS:
            errors[str(name)] = "unknown field; allowed: " + ", ".join(FIELDS)
    kind = data.get("type")
    if not isinstance(kind, str) or not (kind in EVENT_TYPES or CUSTOM_RE.fullmatch(kind)):
        errors["type"] = (
            "one of " + ", ".join(EVENT_TYPES) + ", or custom.NAME (lower case, digits, _ . -)"
        )
    elif kind not in EVENT_TYPES and not catalogue.knows(kind):
        declared = [event.name for event in catalogue.declared]
        errors["type"] = f"{kind} is not declared in the event types file; declared: " + (
            ", ".join(declared) or "none"
        )
    email = None
    if data.get("email") is not None:
        try:
            email = normalise_email(data["email"])
        except ValueError as exc:
            errors["email"] = str(exc)
    visitor_id = data.get("visitor_id")
    if visitor_id is not None and (
        not isinstance(visitor_id, str) or not _VISITOR_RE.fullmatch(visitor_id)
    ):
        errors["visitor_id"] = "8 to 64 letters, digits, -, _ or :"
        visitor_id = None
    if data.get("email") is None and data.get("visitor_id") is None:
        errors["email"] = "give the lead's email, a visitor_id, or both"
    occurred_at = now
    if data.get("occurred_at") is not None:
        occurred_at, problem = _timestamp(data["occurred_at"], now, simulated)
        if problem:
            errors["occurred_at"] = problem
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        errors["properties"] = "a JSON object"
    elif len(json.dumps(properties)) > MAX_PROPERTIES_BYTES:
        errors["properties"] = f"at most {MAX_PROPERTIES_BYTES} bytes of JSON"
    elif isinstance(kind, str) and (allowed := catalogue.closed_properties(kind)) is not None:
        unknown = sorted(str(name) for name in properties if name not in allowed)
        if unknown:
            errors["properties"] = (
                f"{kind} carries only " + (", ".join(allowed) or "no properties")
                + "; not " + ", ".join(unknown)
            )  # fmt: skip
    url = data.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > 2000):
        errors["url"] = "text of at most 2000 characters"
    if errors:
        return None, errors
    return (
        IncomingEvent(
            type=str(kind),
            occurred_at=occurred_at,
            email=email,
            visitor_id=visitor_id,
            url=url,
            properties=properties,
        ),
        {},
    )


def _timestamp(value: Any, now: datetime, simulated: bool) -> tuple[datetime, str | None]:
    if not isinstance(value, str):
        return now, "an ISO 8601 time with a timezone, e.g. 2026-12-01T09:30:00Z"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return now, "an ISO 8601 time with a timezone, e.g. 2026-12-01T09:30:00Z"
    if parsed.tzinfo is None:
        return now, "add a timezone (Z or +hh:mm): a time without one is ambiguous"
    if parsed > now + MAX_CLOCK_SKEW:
        if simulated:
            return now, (
                f"is in the future: the instance's simulated time is {now:%Y-%m-%dT%H:%M:%SZ} "
                "(nurture tick --now moves it)"
            )
        return now, "is in the future"
    return parsed, None

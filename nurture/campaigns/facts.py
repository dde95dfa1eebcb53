"""Gathering what the drip rules need to know about many leads at once.

A tick decides hundreds of enrolments per transaction, so every fact is loaded with one
query per kind for the whole batch, and only the kinds the batch's campaigns use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.campaigns.spec import (
    AllOf,
    AnyOf,
    BranchStep,
    Campaign,
    Clicked,
    Condition,
    EventSeen,
    Not,
    Opened,
)

# The names campaign conditions may compare: the grammar and this gatherer share them.
from nurture.campaigns.vocabulary import ACCOUNT_FIELD_NAMES, LEAD_FIELD_NAMES
from nurture.consent.rules import is_mailable
from nurture.models import Event, Lead, LeadRow, Message
from nurture.platform.db import among


def lead_fields(lead: Lead | LeadRow) -> dict[str, Any]:
    """Lead fields, ``attributes.<key>`` and ``account.<field>`` by name, for conditions."""
    values: dict[str, Any] = {name: getattr(lead, name) for name in LEAD_FIELD_NAMES}
    for key, value in (lead.attributes or {}).items():
        values[f"attributes.{key}"] = value
    account = lead.account
    if account is not None:
        for name in ACCOUNT_FIELD_NAMES:
            values[f"account.{name}"] = getattr(account, name)
        for key, value in (account.attributes or {}).items():
            values[f"account.attributes.{key}"] = value
    return values


@dataclass(frozen=True)
class Needs:
    """Which facts a set of campaigns can look at."""

    engagement: bool = False
    event_types: frozenset[str] = field(default_factory=frozenset)

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.engagement or other.engagement, self.event_types | other.event_types)


def campaign_needs(campaign: Campaign) -> Needs:
    """The fact kinds a campaign's conditions use (computed once per campaign version)."""
    conditions: list[Condition] = [rule for _, rule in campaign.exit_rules]
    if campaign.goal is not None:
        conditions.append(campaign.goal)
    if campaign.audience is not None:
        conditions.append(campaign.audience)
    for track in campaign.tracks:
        conditions.extend(step.condition for step in track.steps if isinstance(step, BranchStep))
    needs = Needs()
    for condition in conditions:
        needs = needs | _needs_of(condition)
    return needs


def _needs_of(condition: Condition) -> Needs:
    match condition:
        case Opened() | Clicked():
            return Needs(engagement=True)
        case EventSeen(type=event_type):
            return Needs(event_types=frozenset({event_type}))
        case AllOf(items=items) | AnyOf(items=items):
            needs = Needs()
            for item in items:
                needs = needs | _needs_of(item)
            return needs
        case Not(item=item):
            return _needs_of(item)
    return Needs()


@dataclass
class BatchFacts:
    """Facts for a batch of enrolments, indexed for the engine."""

    sent_templates: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    opened_steps: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    clicked: dict[int, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    # lead id -> event type -> latest human occurrence
    events: dict[int, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    # lead id -> campaign email times within the widest cap period
    recent_sends: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))


class EnrollmentIds(Protocol):
    """What the batch facts need of an enrolment: an ORM row or a column-only copy."""

    @property
    def id(self) -> int: ...

    @property
    def lead_id(self) -> int: ...

    @property
    def enrolled_at(self) -> datetime: ...


def load_batch_facts(
    session: Session,
    enrollments: Sequence[EnrollmentIds],
    needs: Needs,
    *,
    now: datetime,
    cap_period: timedelta,
) -> BatchFacts:
    """Load, in a handful of queries, the facts for every enrolment of a batch.

    The batch's ids go as one array parameter each (``among``): an IN list of 500 would be
    rendered and parsed again on every batch."""
    facts = BatchFacts()
    enrollment_ids = [e.id for e in enrollments]
    lead_ids = sorted({e.lead_id for e in enrollments})
    if not enrollment_ids:
        return facts

    sent = session.execute(
        select(Message.id, Message.enrollment_id, Message.step_key, Message.template).where(
            among(session, Message.enrollment_id, enrollment_ids)
        )
    ).all()
    step_of_message: dict[int, tuple[int, str]] = {}
    for message_id, enrollment_id, key, template in sent:
        if enrollment_id is None:  # the query asked for these enrolments only
            continue
        facts.sent_templates[enrollment_id].add(template)
        if key:
            step_of_message[message_id] = (enrollment_id, key.rsplit("/", 1)[-1])

    if needs.engagement and step_of_message:
        rows = session.execute(
            select(Event.message_id, Event.type, Event.properties).where(
                among(session, Event.message_id, step_of_message),
                Event.type.in_(("email.opened", "email.clicked")),
                Event.is_machine.is_(False),
            )
        ).all()
        for message_id, event_type, properties in rows:
            enrollment_id, step_id = step_of_message[message_id]
            if event_type == "email.opened":
                facts.opened_steps[enrollment_id].add(step_id)
            else:
                # A click implies the email was opened, even if images were blocked.
                facts.opened_steps[enrollment_id].add(step_id)
                url = (properties or {}).get("url", "")
                facts.clicked[enrollment_id][step_id].add(url)

    if needs.event_types:
        earliest = min(e.enrolled_at for e in enrollments)
        rows = session.execute(
            select(Event.lead_id, Event.type, func.max(Event.occurred_at))
            .where(
                among(session, Event.lead_id, lead_ids),
                Event.type.in_(sorted(needs.event_types)),
                Event.is_machine.is_(False),
                Event.occurred_at >= earliest,
            )
            .group_by(Event.lead_id, Event.type)
        ).all()
        for lead_id, event_type, latest in rows:
            if lead_id is not None:  # the query asked for these leads only
                facts.events[lead_id][event_type] = _aware(latest)

    rows = session.execute(
        select(Message.lead_id, Message.queued_at).where(
            among(session, Message.lead_id, lead_ids),
            Message.kind == "campaign",
            Message.queued_at > now - cap_period,
        )
    ).all()
    for lead_id, queued_at in rows:
        facts.recent_sends[lead_id].append(queued_at)
    return facts


def _aware(value: datetime | str) -> datetime:
    # func.max() bypasses the column type on SQLite, which returns naive UTC or a string.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lead_facts_base(lead: Lead | LeadRow, now: datetime) -> dict[str, Any]:
    """The per-lead part of LeadFacts (the per-enrolment part comes from BatchFacts)."""
    return {
        "stage": lead.stage,
        "temperature": lead.temperature,
        "mailable": is_mailable(lead),
        # With the half-life the score was computed with (the scoring model sets it).
        "score": lead.decayed_score(now),
        "timezone": lead.timezone,
        "fields": lead_fields(lead),
    }

"""A lead's timeline: every event, newest first, described for people and for the API.

Machine hits (privacy proxies, scanners) are listed with their reasons, not hidden: the
point is to show what was counted and what was not. Each event that earned points under
the active model shows them (after caps, and what they are worth now after decay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from nurture.models import Campaign, Event, Message
from nurture.scoring.rules import Award, Explanation

# Properties worth a glance in a one-line summary, in this order.
_SUMMARY_PROPERTIES = ("url", "title", "form", "form_name", "name", "reason", "from", "to")


@dataclass(frozen=True)
class TimelineEntry:
    """One event as the timeline shows it."""

    id: int
    type: str
    occurred_at: datetime
    is_machine: bool
    machine_reasons: tuple[str, ...]
    campaign: str | None
    template: str | None
    subject: str | None
    properties: dict[str, Any]
    points: float | None = None
    points_now: float | None = None
    rule: str | None = None

    def summary(self) -> str:
        """What happened, in one line (without the time and type)."""
        parts: list[str] = []
        if self.template:
            parts.append(self.template + (f" “{self.subject}”" if self.subject else ""))
        if self.campaign:
            parts.append(f"campaign {self.campaign}")
        for key in _SUMMARY_PROPERTIES:
            value = self.properties.get(key)
            if value not in (None, "", [], {}):
                parts.append(f"{key}={value}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "id": self.id,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "human": not self.is_machine,
            "machine_reasons": list(self.machine_reasons),
            "campaign": self.campaign,
            "template": self.template,
            "subject": self.subject,
            "properties": self.properties,
            "score": None
            if self.rule is None
            else {
                "rule": self.rule,
                "awarded": round(self.points or 0.0, 2),
                "points_now": round(self.points_now or 0.0, 2),
            },
        }


def lead_timeline(
    session: Session,
    lead_id: int,
    *,
    limit: int = 100,
    before: datetime | None = None,
    before_id: int | None = None,
    machine: bool | None = None,
    explanation: Explanation | None = None,
) -> list[TimelineEntry]:
    """The newest ``limit`` events of a lead (before ``before`` if given), with the points
    each earned according to ``explanation`` (see ``nurture.scoring.lead_score``).

    With ``before_id`` too, the page starts after the event (``before``, ``before_id``) in
    the timeline's order (keyset pagination, exact when several events share a time);
    ``machine`` keeps only machine hits (True) or only people's events (False)."""
    query = (
        select(Event, Campaign.key, Message.template, Message.subject)
        .outerjoin(Message, Message.id == Event.message_id)
        .outerjoin(Campaign, Campaign.id == Event.campaign_id)
        .where(Event.lead_id == lead_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    if before is not None and before_id is not None:
        query = query.where(tuple_(Event.occurred_at, Event.id) < tuple_(before, before_id))
    elif before is not None:
        query = query.where(Event.occurred_at < before)
    if machine is not None:
        query = query.where(Event.is_machine.is_(machine))
    awards: dict[int, Award] = {}
    if explanation is not None:
        awards = {a.event.id: a for part in explanation.rules for a in part.awards}
    entries = []
    for event, campaign, template, subject in session.execute(query).all():
        award = awards.get(event.id)
        entries.append(
            TimelineEntry(
                id=event.id,
                type=event.type,
                occurred_at=event.occurred_at,
                is_machine=event.is_machine,
                machine_reasons=tuple(event.machine_reasons or ()),
                campaign=campaign,
                template=template,
                subject=subject,
                properties=dict(event.properties or {}),
                points=award.points if award else None,
                points_now=award.now if award else None,
                rule=award.rule.id if award else None,
            )
        )
    return entries

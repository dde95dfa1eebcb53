"""The preference centre: which topics a person wants, and what opting out of one stops.

Topics are declared by campaigns (``topic:`` in a campaign file). Opting out of a topic
ends the person's live enrolments in campaigns of that topic at once, and
``nurture.campaigns.enrolment.enrol_lead`` refuses new ones (via
``nurture.consent.rules.wants_topic``); opting in again lets the campaigns of that topic
that turned the person away enrol them (``nurture.campaigns.reevaluation``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns.reevaluation import reevaluate_entries
from nurture.campaigns.sync import active_campaigns
from nurture.consent import audit
from nurture.consent.suppression import hash_for
from nurture.models import Enrollment, EnrollmentHistory, Lead


@dataclass(frozen=True)
class Topic:
    """A topic people can choose in the preference centre."""

    key: str
    label: str
    campaigns: tuple[str, ...]


def topic_label(key: str) -> str:
    """``product-news`` → ``Product news`` (pure)."""
    return key.replace("-", " ").capitalize()


def available_topics(session: Session) -> list[Topic]:
    """Topics of the active campaigns, sorted by label, with the campaign names."""

    names: dict[str, list[str]] = {}
    for _row, spec in active_campaigns(session):
        if spec.topic:
            names.setdefault(spec.topic, []).append(spec.name)
    return sorted(
        (Topic(key, topic_label(key), tuple(sorted(v))) for key, v in names.items()),
        key=lambda topic: topic.label,
    )


def set_topic_opt_outs(
    session: Session,
    lead: Lead,
    opt_outs: Iterable[str],
    *,
    now: datetime,
    actor: str,
    source: str,
) -> list[str]:
    """Store the topics the lead does not want, end its live enrolments in campaigns of
    newly opted-out topics, and audit the change. Returns the stored opt-outs."""

    before = set(lead.topic_opt_outs or ())
    after = sorted(set(opt_outs))
    if set(after) == before:
        return after
    lead.topic_opt_outs = after  # a new list, so the JSON column is seen as changed
    lead.updated_at = now
    added = set(after) - before
    if added:
        campaign_ids = {row.id for row, spec in active_campaigns(session) if spec.topic in added}
        live = session.scalars(
            select(Enrollment).where(
                Enrollment.lead_id == lead.id,
                Enrollment.status == "active",
                Enrollment.campaign_id.in_(campaign_ids),
            )
        ).all()
        for enrollment in live:
            enrollment.status = "exited"
            enrollment.next_due_at = None
            enrollment.finished_at = now
            enrollment.exit_reason = "opted out of the campaign's topic"
            session.add(
                EnrollmentHistory(
                    enrollment_id=enrollment.id,
                    at=now,
                    action="exited",
                    track=enrollment.track,
                    step=enrollment.step,
                    detail={"reason": "topic opt-out"},
                )
            )
    if before - set(after):
        # A topic wanted again: campaigns of it that turned the lead away may take it now.
        session.flush()
        reevaluate_entries(session, [lead], now)
    audit.record(
        session,
        action="preferences.changed",
        lead_id=lead.id,
        email_hash=hash_for(session, lead.email),
        detail={
            "opted_out": sorted(added),
            "opted_in": sorted(before - set(after)),
            "source": source,
        },
        actor=actor,
        now=now,
    )
    return after

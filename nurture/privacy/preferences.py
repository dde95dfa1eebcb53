"""The preference centre: which topics a person wants, and what opting out of one stops.

Topics are declared by campaigns (``topic:`` in a campaign file, with a label per language:
docs/campaigns.md). Opting out of a topic
ends the person's live enrolments in campaigns of that topic at once, and
``nurture.campaigns.enrolment.enrol_lead`` refuses new ones (via
``nurture.consent.rules.wants_topic``); opting in again lets the campaigns of that topic
that turned the person away enrol them (``nurture.campaigns.reevaluation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns.reevaluation import reevaluate_entries
from nurture.campaigns.sync import active_campaigns
from nurture.consent import audit
from nurture.consent.suppression import hash_for
from nurture.models import Enrollment, EnrollmentHistory, Lead

# The language of a label used when neither the reader's nor an every-language one exists.
DEFAULT_LABEL_LOCALE = "en"


@dataclass(frozen=True)
class Topic:
    """A topic people can choose in the preference centre."""

    key: str
    label: str
    campaigns: tuple[str, ...]


def topic_label(
    key: str, labels: Mapping[str, str] | None = None, locale: str | None = None
) -> str:
    """What a person reads for topic ``key`` (pure): the label declared for ``locale``
    (``pl-PL`` falls back to ``pl``), else for every language (``""``), else English, else
    any declared one; only a topic with no label at all shows its key in words
    (``product-news`` → ``Product news``)."""
    labels = labels or {}
    wanted: list[str] = []
    if locale:
        normal = locale.replace("_", "-")
        wanted += [normal, normal.split("-", 1)[0].lower()]
    wanted += ["", DEFAULT_LABEL_LOCALE]
    for candidate in wanted:
        if labels.get(candidate):
            return labels[candidate]
    for text in labels.values():
        if text:
            return text
    return key.replace("-", " ").capitalize()


def available_topics(session: Session, locale: str | None = None) -> list[Topic]:
    """Topics of the active campaigns with their labels in ``locale`` (falling back as
    :func:`topic_label` says), sorted by label, with the campaign names. Campaigns sharing a
    topic share its labels; for one language the first campaign (by id) naming it wins."""

    names: dict[str, list[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    for _row, spec in active_campaigns(session):
        if spec.topic:
            names.setdefault(spec.topic, []).append(spec.name)
            declared = labels.setdefault(spec.topic, {})
            for language, text in spec.topic_labels.items():
                declared.setdefault(language, text)
    return sorted(
        (
            Topic(key, topic_label(key, labels.get(key), locale), tuple(sorted(v)))
            for key, v in names.items()
        ),
        key=lambda topic: topic.label.casefold(),
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

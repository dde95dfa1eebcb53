"""Enrolment use cases: putting leads into campaigns, and reacting when a lead changes.

These run inside the caller's transaction (the import, the API request, the tracking
batch), so an enrolment commits together with the change that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns.drip import LeadFacts, evaluate
from nurture.campaigns.facts import lead_facts_base
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.spec import Track
from nurture.campaigns.sync import active_campaigns, campaign_spec_for_version
from nurture.consent.rules import is_mailable, wants_topic
from nurture.models import Campaign, Enrollment, EnrollmentHistory, Lead
from nurture.platform.bulk_rows import as_loaded, insert_rows
from nurture.platform.db import among, bulk_insert, table_of, with_defaults


@dataclass(frozen=True)
class EnrolmentOutcome:
    """Whether a lead was enrolled, and if not, why."""

    enrollment: Enrollment | None
    reason: str

    @property
    def enrolled(self) -> bool:
        return self.enrollment is not None


def enrol_lead(
    session: Session,
    lead: Lead,
    campaign: Campaign,
    spec: CampaignSpec,
    now: datetime,
    *,
    via: str = "manual",
) -> EnrolmentOutcome:
    """Enrol ``lead`` in ``campaign`` if the audience, consent and re-entry policy allow.

    The new enrolment is due at once: the next tick picks its track and sends the first
    email (within the send window).
    """
    if campaign.status != "active" or campaign.active_version_id is None:
        return EnrolmentOutcome(None, f"campaign is {campaign.status}")
    refusal, track = _admission(lead, spec, now)
    if refusal is not None or track is None:
        return EnrolmentOutcome(None, refusal or "")

    previous = session.execute(
        select(Enrollment)
        .where(Enrollment.lead_id == lead.id, Enrollment.campaign_id == campaign.id)
        .order_by(Enrollment.entry_number.desc())
        .limit(1)
    ).scalar_one_or_none()
    if previous is not None:
        refusal = _re_entry_refusal(spec, previous.status, previous.finished_at, now)
        if refusal:
            return EnrolmentOutcome(None, refusal)

    enrollment = Enrollment(
        lead_id=lead.id,
        campaign_id=campaign.id,
        entry_number=(previous.entry_number + 1) if previous else 1,
        status="active",
        version_id=campaign.active_version_id,
        track=track.id,
        step=None,
        next_due_at=now,
        enrolled_at=now,
    )
    session.add(enrollment)
    session.flush()
    session.add(
        EnrollmentHistory(
            enrollment_id=enrollment.id,
            at=now,
            action="enrolled",
            track=track.id,
            detail={"via": via, "entry": enrollment.entry_number},
        )
    )
    return EnrolmentOutcome(enrollment, f"enrolled ({via})")


def enrol_many(
    session: Session,
    leads: Sequence[Lead],
    campaign: Campaign,
    spec: CampaignSpec,
    now: datetime,
    *,
    via: str = "manual",
) -> list[EnrolmentOutcome]:
    """Enrol each of ``leads`` in ``campaign`` under exactly the rules of ``enrol_lead``, as
    one set: one query for their previous enrolments, one multi-row INSERT of the new
    enrolments and one of their history rows, no flush per lead. Returns one outcome per
    lead, in order (a lead listed twice is enrolled once: the second is "already enrolled").
    """
    outcomes, positions, rows = _enrol_rows(session, leads, campaign, spec, now, via)
    if rows:
        # Kept as enrolment objects in the session as ``enrol_lead`` leaves them
        # (``platform.bulk_rows``).
        enrollments = as_loaded(session, Enrollment, rows)
        for position, enrollment in zip(positions, enrollments, strict=True):
            outcomes[position] = EnrolmentOutcome(enrollment, f"enrolled ({via})")
    return [outcome for outcome in outcomes if outcome is not None]


def enter_many(
    session: Session,
    leads: Sequence[Lead],
    campaign: Campaign,
    spec: CampaignSpec,
    now: datetime,
    *,
    via: str = "manual",
) -> int:
    """``enrol_many`` for a caller that only needs the rows written: the same enrolments
    and history, no outcomes and no enrolment objects in the session (an import's batch
    reads neither). Returns how many were made."""
    _, _, rows = _enrol_rows(session, leads, campaign, spec, now, via)
    return len(rows)


def _enrol_rows(
    session: Session,
    leads: Sequence[Lead],
    campaign: Campaign,
    spec: CampaignSpec,
    now: datetime,
    via: str,
) -> tuple[list[EnrolmentOutcome | None], list[int], list[dict[str, Any]]]:
    """Decide and insert the enrolments of ``enrol_many``: the outcomes of the leads
    refused (None where a lead was enrolled), the positions of the enrolled ones, and the
    enrolment rows inserted (with their ids), in the same order."""
    if campaign.status != "active" or campaign.active_version_id is None:
        return [EnrolmentOutcome(None, f"campaign is {campaign.status}") for _ in leads], [], []
    outcomes: list[EnrolmentOutcome | None] = []
    admitted: list[tuple[int, Lead, str]] = []  # position in outcomes, lead, track id
    for lead in leads:
        refusal, track = _admission(lead, spec, now)
        if refusal is not None or track is None:
            outcomes.append(EnrolmentOutcome(None, refusal or ""))
        else:
            admitted.append((len(outcomes), lead, track.id))
            outcomes.append(None)
    previous: dict[int, tuple[str, int, datetime | None]] = {}
    if admitted:
        found = session.execute(
            select(
                Enrollment.lead_id,
                Enrollment.status,
                Enrollment.entry_number,
                Enrollment.finished_at,
            )
            .where(
                Enrollment.campaign_id == campaign.id,
                among(session, Enrollment.lead_id, {lead.id for _, lead, _ in admitted}),
            )
            .order_by(Enrollment.entry_number)
        )
        # The latest of each lead, as plain values: nothing here changes an enrolment.
        previous = {lead_id: (status, number, at) for lead_id, status, number, at in found}
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    taken: set[int] = set()
    for position, lead, track_id in admitted:
        before = previous.get(lead.id)
        refusal = "already enrolled" if lead.id in taken else None
        if refusal is None and before is not None:
            refusal = _re_entry_refusal(spec, before[0], before[2], now)
        if refusal:
            outcomes[position] = EnrolmentOutcome(None, refusal)
            continue
        taken.add(lead.id)
        positions.append(position)
        rows.append(
            {
                "lead_id": lead.id,
                "campaign_id": campaign.id,
                "entry_number": (before[1] + 1) if before else 1,
                "status": "active",
                "version_id": campaign.active_version_id,
                "track": track_id,
                "step": None,
                "next_due_at": now,
                "enrolled_at": now,
            }
        )
    if rows:
        with_defaults(table_of(Enrollment), rows)
        insert_rows(session, table_of(Enrollment), rows)
        # One detail object per entry number: the bulk insert encodes each distinct
        # object's JSON once, and nearly every row of a batch is a first entry.
        details: dict[int, dict[str, Any]] = {}
        history = [
            {
                "enrollment_id": row["id"],
                "at": now,
                "action": "enrolled",
                "track": row["track"],
                "step": None,
                "detail": details.setdefault(
                    row["entry_number"], {"via": via, "entry": row["entry_number"]}
                ),
            }
            for row in rows
        ]
        bulk_insert(session.connection(), table_of(EnrollmentHistory), history)
    return outcomes, positions, rows


def _admission(lead: Lead, spec: CampaignSpec, now: datetime) -> tuple[str | None, Track | None]:
    """Whether the campaign's rules admit ``lead`` (pure): a refusal, or the track it
    starts on. The re-entry policy is checked apart (it needs the lead's enrolments)."""
    if not is_mailable(lead):
        return "lead may not be mailed (consent or unsubscribe)", None
    if not wants_topic(lead, spec.topic):
        return f"lead opted out of the topic {spec.topic!r}", None
    # The facts only for a campaign with an audience: gathering every field of every lead
    # of an import costs more than the rest of the decision.
    if spec.audience is not None:
        facts = LeadFacts(**lead_facts_base(lead, now))
        if not evaluate(spec.audience, facts, now):
            return "lead is not in the campaign's audience", None
    track = spec.track_for(lead.stage, lead.temperature)
    if track is None:
        return "no track matches the lead's stage and temperature", None
    return None, track


def _re_entry_refusal(
    spec: CampaignSpec, status: str, finished_at: datetime | None, now: datetime
) -> str | None:
    """Why the campaign's re-entry policy refuses a lead whose latest enrolment has this
    ``status`` and ``finished_at``, or None."""
    if status == "active":
        return "already enrolled"
    policy = spec.re_entry.policy
    if policy == "never":
        return "already went through this campaign (re-entry: never)"
    cooldown = spec.re_entry.cooldown
    if cooldown and finished_at and finished_at + cooldown > now:
        return f"re-entry cool-down until {(finished_at + cooldown).isoformat()}"
    return None


def enrol_on_trigger(
    session: Session,
    lead: Lead,
    now: datetime,
    *,
    kind: str,
    event_type: str | None = None,
    stage: str | None = None,
    attribute: str | None = None,
) -> list[EnrolmentOutcome]:
    """Enrol ``lead`` in every active campaign with a matching trigger."""

    outcomes = []
    for campaign, spec in active_campaigns(session):
        if _triggered(spec, kind, event_type=event_type, stage=stage, attribute=attribute):
            outcomes.append(enrol_lead(session, lead, campaign, spec, now, via=kind))
    return outcomes


def enrol_set_on_trigger(
    session: Session,
    leads: Sequence[Lead],
    now: datetime,
    *,
    kind: str,
    stage: str | None = None,
    attribute: str | None = None,
) -> list[EnrolmentOutcome]:
    """Enrol ``leads`` in every active campaign with a matching trigger, with the same
    results as ``enrol_on_trigger`` lead by lead: the active campaigns are read once and
    each campaign decides for the whole set (``enrol_many``). Outcomes by campaign, then
    lead."""
    outcomes: list[EnrolmentOutcome] = []
    if not leads:
        return outcomes
    for campaign, spec in active_campaigns(session):
        if _triggered(spec, kind, stage=stage, attribute=attribute):
            outcomes.extend(enrol_many(session, leads, campaign, spec, now, via=kind))
    return outcomes


def enter_set_on_trigger(
    session: Session,
    leads: Sequence[Lead],
    now: datetime,
    *,
    kind: str,
    stage: str | None = None,
    attribute: str | None = None,
) -> int:
    """``enrol_set_on_trigger`` for a caller that discards the outcomes (the creation
    trigger): the same enrolments, written as rows only (``enter_many``). Returns how many
    were made."""
    if not leads:
        return 0
    return sum(
        enter_many(session, leads, campaign, spec, now, via=kind)
        for campaign, spec in active_campaigns(session)
        if _triggered(spec, kind, stage=stage, attribute=attribute)
    )


def _triggered(
    spec: CampaignSpec,
    kind: str,
    *,
    event_type: str | None = None,
    stage: str | None = None,
    attribute: str | None = None,
) -> bool:
    for trigger in spec.triggers:
        if trigger.kind != kind:
            continue
        if kind == "event" and trigger.event_type != event_type:
            continue
        if kind == "stage_changed" and trigger.stages and stage not in trigger.stages:
            continue
        if kind == "attribute_changed" and trigger.attribute != attribute:
            continue
        return True
    return False


def lead_changed(session: Session, lead: Lead, now: datetime) -> int:
    """A lead's stage, temperature, consent or data changed: react at once.

    Each live enrolment whose campaign now puts the lead on another track (a warm lead
    turning hot, say) switches track right here, in the caller's transaction, with a
    ``switched`` history entry; it then starts the new track at the next tick and skips
    every email the lead already received. Every live enrolment is also made due now, so
    exits, goals and sends happen at the next tick instead of after a wait.

    Returns how many enrolments were made due or switched.
    """

    live = session.execute(
        select(Enrollment, Campaign.active_version_id)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.lead_id == lead.id, Enrollment.status == "active")
    ).all()
    touched = 0
    for enrollment, version_id in live:
        changed = False
        if version_id is not None:
            track = campaign_spec_for_version(session, version_id).track_for(
                lead.stage, lead.temperature
            )
            if track is not None and enrollment.track and track.id != enrollment.track:
                session.add(
                    EnrollmentHistory(
                        enrollment_id=enrollment.id,
                        at=now,
                        action="switched",
                        track=track.id,
                        step=None,
                        detail={
                            "from": enrollment.track,
                            "stage": lead.stage,
                            "temperature": lead.temperature,
                        },
                    )
                )
                enrollment.track, enrollment.step, enrollment.step_started_at = track.id, None, None
                changed = True
        if enrollment.next_due_at is not None and enrollment.next_due_at > now:
            enrollment.next_due_at = now
            changed = True
        touched += changed
    return touched

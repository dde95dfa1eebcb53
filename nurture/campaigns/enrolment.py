"""Enrolment use cases: putting leads into campaigns, and reacting when a lead changes.

These run inside the caller's transaction (the import, the API request, the tracking
batch), so an enrolment commits together with the change that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns.drip import LeadFacts, evaluate
from nurture.campaigns.facts import lead_facts_base
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.sync import active_campaigns, campaign_spec_for_version
from nurture.consent.rules import is_mailable, wants_topic
from nurture.models import Campaign, Enrollment, EnrollmentHistory, Lead


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
    if not is_mailable(lead):
        return EnrolmentOutcome(None, "lead may not be mailed (consent or unsubscribe)")
    if not wants_topic(lead, spec.topic):
        return EnrolmentOutcome(None, f"lead opted out of the topic {spec.topic!r}")
    facts = LeadFacts(**lead_facts_base(lead, now))
    if spec.audience is not None and not evaluate(spec.audience, facts, now):
        return EnrolmentOutcome(None, "lead is not in the campaign's audience")
    track = spec.track_for(lead.stage, lead.temperature)
    if track is None:
        return EnrolmentOutcome(None, "no track matches the lead's stage and temperature")

    previous = session.execute(
        select(Enrollment)
        .where(Enrollment.lead_id == lead.id, Enrollment.campaign_id == campaign.id)
        .order_by(Enrollment.entry_number.desc())
        .limit(1)
    ).scalar_one_or_none()
    if previous is not None:
        refusal = _re_entry_refusal(spec, previous, now)
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


def _re_entry_refusal(spec: CampaignSpec, previous: Enrollment, now: datetime) -> str | None:
    if previous.status == "active":
        return "already enrolled"
    policy = spec.re_entry.policy
    if policy == "never":
        return "already went through this campaign (re-entry: never)"
    cooldown = spec.re_entry.cooldown
    if cooldown and previous.finished_at and previous.finished_at + cooldown > now:
        return f"re-entry cool-down until {(previous.finished_at + cooldown).isoformat()}"
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
        for trigger in spec.triggers:
            if trigger.kind != kind:
                continue
            if kind == "event" and trigger.event_type != event_type:
                continue
            if kind == "stage_changed" and trigger.stages and stage not in trigger.stages:
                continue
            if kind == "attribute_changed" and trigger.attribute != attribute:
                continue
            outcomes.append(enrol_lead(session, lead, campaign, spec, now, via=kind))
            break
    return outcomes


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

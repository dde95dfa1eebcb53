"""Entry re-evaluation: a lead turned away at a campaign's door gets another look whenever
it changes.

A trigger fires once: ``lead_created`` when the lead is created, ``stage_changed`` when it
enters a stage. If the lead could not be enrolled at that moment — no consent yet, outside
the campaign's audience, a topic opted out of — nothing used to bring it back: fixing the
data and importing again, consenting later or the attribute that puts it in the audience
changed nothing. Here those entries *stand*: while the condition the trigger reacted to
still holds (the lead was created, or is still in the stage, since the campaign started),
a lead that never entered the campaign is enrolled as soon as it qualifies.

Only leads that never entered the campaign are considered, so re-evaluation can never enrol
a lead twice or bring back one that finished or left (re-entry is for the triggers
themselves, under the campaign's ``re_entry`` policy). Leads that existed before the
campaign started are not swept in by an unrelated edit.

The same change fires the ``attribute_changed`` triggers that name what changed (a lead
field, or ``attributes.KEY``): those are moments, under the usual re-entry rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns.enrolment import EnrolmentOutcome, enrol_many, enrol_set_on_trigger
from nurture.campaigns.spec import Trigger
from nurture.campaigns.sync import active_campaigns
from nurture.consent.rules import is_mailable
from nurture.models import Enrollment, Lead
from nurture.platform.db import among

# The history's ``via`` of an enrolment made by re-evaluation.
VIA = "reevaluated"
# Trigger kinds whose condition persists after the moment it fired.
STANDING_KINDS = frozenset({"lead_created", "stage_changed"})


def standing_entry(
    triggers: Iterable[Trigger],
    *,
    lead_created_at: datetime,
    lead_stage: str,
    stage_changed_at: datetime,
    campaign_since: datetime,
) -> str | None:
    """The kind of the first trigger that still admits a lead (pure), or None.

    ``lead_created`` stands for a lead created since the campaign started
    (``campaign_since``); ``stage_changed: [stages]`` for a lead that entered one of
    ``stages`` since then and is still in it. A ``stage_changed`` trigger without stages
    (any change) and ``event`` / ``attribute_changed`` triggers are moments, not states:
    they never stand.
    """
    for trigger in triggers:
        if trigger.kind == "lead_created" and lead_created_at >= campaign_since:
            return trigger.kind
        if (
            trigger.kind == "stage_changed"
            and trigger.stages
            and lead_stage in trigger.stages
            and stage_changed_at >= campaign_since
        ):
            return trigger.kind
    return None


def reevaluate_entries(
    session: Session, leads: Sequence[Lead], now: datetime
) -> list[EnrolmentOutcome]:
    """Enrol each of ``leads`` in every active campaign it never entered whose entry still
    stands (``standing_entry``) and which now admits it (consent, audience, topic, track:
    ``enrol_lead``). Returns the enrolments made. Runs in the caller's transaction."""
    mailable = [lead for lead in leads if lead.id is not None and is_mailable(lead)]
    if not mailable:
        return []
    campaigns = [
        (row, spec)
        for row, spec in active_campaigns(session)
        if any(trigger.kind in STANDING_KINDS for trigger in spec.triggers)
    ]
    if not campaigns:
        return []
    found = session.execute(
        select(Enrollment.lead_id, Enrollment.campaign_id).where(
            among(session, Enrollment.lead_id, {lead.id for lead in mailable}),
            Enrollment.campaign_id.in_({row.id for row, _ in campaigns}),
        )
    )
    entered = {(lead_id, campaign_id) for lead_id, campaign_id in found}
    enrolled: list[EnrolmentOutcome] = []
    for row, spec in campaigns:
        standing = [
            lead
            for lead in mailable
            if (lead.id, row.id) not in entered
            and standing_entry(
                spec.triggers,
                lead_created_at=lead.created_at,
                lead_stage=lead.stage,
                stage_changed_at=lead.stage_changed_at,
                campaign_since=row.created_at,
            )
            is not None
        ]
        if standing:
            outcomes = enrol_many(session, standing, row, spec, now, via=VIA)
            enrolled.extend(outcome for outcome in outcomes if outcome.enrolled)
    return enrolled


def fire_attribute_triggers(
    session: Session,
    leads: Sequence[Lead],
    changed: Mapping[int, Iterable[str]],
    now: datetime,
) -> list[EnrolmentOutcome]:
    """Fire the ``attribute_changed`` triggers of active campaigns for what changed on each
    lead (``changed``: lead id -> field names and ``attributes.KEY``), under each campaign's
    audience, consent and ``re_entry`` rules. Returns the enrolments made."""
    watched = {
        trigger.attribute
        for _, spec in active_campaigns(session)
        for trigger in spec.triggers
        if trigger.kind == "attribute_changed"
    }
    enrolled: list[EnrolmentOutcome] = []
    if not watched:
        return enrolled
    names: dict[str, list[Lead]] = {}
    for lead in leads:
        for name in sorted(set(changed.get(lead.id, ())) & watched):
            names.setdefault(name, []).append(lead)
    for name in sorted(names):
        outcomes = enrol_set_on_trigger(
            session, names[name], now, kind="attribute_changed", attribute=name
        )
        enrolled.extend(outcome for outcome in outcomes if outcome.enrolled)
    return enrolled

"""Enrolling a filtered set of leads in a campaign by hand: a preview that says how many
would enter and why the others would not, then the enrolment itself.

Each lead goes through the same rule as any other enrolment (``enrol_lead``: the campaign
must be active and allow manual enrolment; the lead must be mailable, want the campaign's
topic, be in its audience and on one of its tracks; the re-entry policy applies). The
preview runs exactly that and rolls back, so its numbers are the ones the enrolment would
give at that moment. A set is enrolled in one transaction, all or nothing, and is capped at
``BULK_LIMIT`` leads: a bigger set belongs to a campaign trigger or audience, which the
engine enrols as leads change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from nurture.campaigns.enrolment import enrol_lead
from nurture.campaigns.pausing import CampaignNotFound
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.leads.selection import LeadSelection, count_selected
from nurture.models import Campaign, Lead
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

# Most leads one enrolment by hand takes, here and from the lead list: larger sets are
# narrowed first (or enrolled by a campaign's audience and triggers, which is what they
# are for).
BULK_LIMIT = 10_000
# Leads loaded per query while enrolling a set.
CHUNK = 500

NO_MANUAL = "campaign does not allow manual enrolment"
NO_VERSION = "campaign has no valid version"


@dataclass(frozen=True)
class BulkOutcome:
    """What enrolling a set did (or, for a preview, would do)."""

    matched: int  # leads matching the filters (at most BULK_LIMIT + 1)
    enrolled: int = 0
    # Refusal reason -> how many leads (the reasons ``enrol_lead`` gives).
    refused: dict[str, int] = field(default_factory=dict)
    too_many: bool = False  # more than BULK_LIMIT matched: nothing was done
    refused_all: str | None = None  # the campaign itself refuses (paused, no manual entry)

    @property
    def refused_count(self) -> int:
        return sum(self.refused.values())


class _Preview(Exception):
    """Carries a preview's outcome out of its transaction, which then rolls back."""

    def __init__(self, outcome: BulkOutcome) -> None:
        super().__init__("preview")
        self.outcome = outcome


def enrol_selection(
    runtime: Runtime,
    campaign_key: str,
    selection: LeadSelection,
    *,
    now: datetime,
    preview: bool,
    limit: int = BULK_LIMIT,
) -> BulkOutcome:
    """Enrol every lead of ``selection`` in ``campaign_key`` (``preview``: only say what
    would happen). Raises CampaignNotFound for an unknown key."""
    try:
        with transaction(runtime.sessions) as session:
            outcome = _enrol(session, campaign_key, selection, now, limit)
            if preview:
                raise _Preview(outcome)
            return outcome
    except _Preview as done:
        return done.outcome


def _enrol(
    session: Session, key: str, selection: LeadSelection, now: datetime, limit: int
) -> BulkOutcome:
    campaign = session.scalar(select(Campaign).where(Campaign.key == key))
    if campaign is None:
        raise CampaignNotFound(f"no campaign {key!r}")
    matched = count_selected(session, selection, up_to=limit + 1)
    if matched > limit:
        return BulkOutcome(matched, too_many=True)
    if campaign.active_version_id is None:
        return BulkOutcome(matched, refused_all=NO_VERSION)
    if campaign.status != "active":
        return BulkOutcome(matched, refused_all=f"campaign is {campaign.status}")
    spec = campaign_spec_for_version(session, campaign.active_version_id)
    if not spec.manual:
        return BulkOutcome(matched, refused_all=NO_MANUAL)
    ids = list(session.scalars(selection.ids().limit(limit)))
    enrolled, refused = 0, Counter[str]()
    for start in range(0, len(ids), CHUNK):
        leads = session.scalars(
            select(Lead)
            .where(Lead.id.in_(ids[start : start + CHUNK]))
            .options(selectinload(Lead.account))
            .order_by(Lead.id)
        )
        for lead in leads:
            result = enrol_lead(session, lead, campaign, spec, now, via="bulk")
            if result.enrolled:
                enrolled += 1
            else:
                refused[refusal_kind(result.reason)] += 1
    return BulkOutcome(matched, enrolled, dict(refused))


def refusal_kind(reason: str) -> str:
    """A refusal reason without its particulars (a cool-down's end, a topic's name), so
    a set's refusals group by kind."""
    if reason.startswith("re-entry cool-down"):
        return "re-entry cool-down"
    if reason.startswith("lead opted out of the topic"):
        return "lead opted out of the campaign's topic"
    return reason

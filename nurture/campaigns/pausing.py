"""Pausing and resuming a campaign: the use cases behind ``nurture campaigns pause|resume``
and the campaign page's buttons.

A paused campaign sends nothing: the engine claims only enrolments of active campaigns, and
retries of its deferred emails wait too. Enrolments keep their place (track, step, the
time their wait began) and no new lead enters it (``enrol_lead`` refuses a campaign that
is not active). Resuming makes it active again; enrolments whose time came during the
pause are due at the next tick, where every send still goes through the drip rules: the
campaign's send window, quiet hours, the frequency cap, the warm-up cap and the domain
throttle. A wait that ended during the pause ends once, so a lead gets the next email of
its track and never a backlog of several.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.consent import audit
from nurture.models import Campaign, Enrollment
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime


class CampaignNotFound(LookupError):
    """No campaign has that key."""


@dataclass(frozen=True)
class PauseOutcome:
    """What a pause or resume did: ``changed`` False when the campaign already was in the
    asked state or cannot take it (``reason`` says which)."""

    key: str
    status: str
    changed: bool
    reason: str
    # Live enrolments held (pause) or released (resume), and of those, how many were due.
    enrolments: int = 0
    overdue: int = 0


def pause_campaign(runtime: Runtime, key: str, *, actor: str, now: datetime) -> PauseOutcome:
    """Pause the campaign ``key``: nothing of it is sent until it is resumed."""
    with transaction(runtime.sessions) as session:
        campaign = _campaign(session, key)
        if campaign.status == "paused":
            return PauseOutcome(key, campaign.status, False, "already paused")
        if campaign.status != "active":
            return PauseOutcome(key, campaign.status, False, f"campaign is {campaign.status}")
        campaign.status = "paused"
        campaign.paused_at = now
        campaign.paused_by = actor[:100]
        campaign.updated_at = now
        held, overdue = _live(session, campaign.id, now)
        _audit(session, "campaign.paused", campaign, actor, now, held)
        return PauseOutcome(key, "paused", True, "paused", held, overdue)


def resume_campaign(runtime: Runtime, key: str, *, actor: str, now: datetime) -> PauseOutcome:
    """Resume the paused campaign ``key``: its enrolments continue where they are."""
    with transaction(runtime.sessions) as session:
        campaign = _campaign(session, key)
        if campaign.status == "active":
            return PauseOutcome(key, campaign.status, False, "not paused")
        if campaign.status != "paused":
            return PauseOutcome(key, campaign.status, False, f"campaign is {campaign.status}")
        campaign.status = "active"
        campaign.paused_at = None
        campaign.paused_by = None
        campaign.updated_at = now
        live, overdue = _live(session, campaign.id, now)
        _audit(session, "campaign.resumed", campaign, actor, now, live)
        return PauseOutcome(key, "active", True, "resumed", live, overdue)


def _campaign(session: Session, key: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.key == key).with_for_update())
    if campaign is None:
        raise CampaignNotFound(f"no campaign {key!r}")
    return campaign


def _live(session: Session, campaign_id: int, now: datetime) -> tuple[int, int]:
    live, overdue = session.execute(
        select(
            func.count(),
            func.count(Enrollment.next_due_at).filter(Enrollment.next_due_at <= now),
        ).where(Enrollment.campaign_id == campaign_id, Enrollment.status == "active")
    ).one()
    return int(live), int(overdue)


def _audit(
    session: Session, action: str, campaign: Campaign, actor: str, now: datetime, live: int
) -> None:
    audit.record(
        session,
        action=action,
        lead_id=None,
        email_hash=None,
        detail={"campaign": campaign.key, "live_enrolments": live},
        actor=actor,
        now=now,
    )

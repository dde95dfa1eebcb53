"""What the reports' filters can name: campaigns, sales reps, fit grades and segments (the
options of the dashboard's filter form)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.analytics.filters import GRADES
from nurture.handoff.team_sync import active_team
from nurture.models import Campaign, SalesRep


@dataclass(frozen=True)
class ReportChoices:
    """(key, name) of every campaign, (email, name) of every rep, the grades, and the
    active sales team file's segments. Sources are free text: a lead's source is whatever
    was captured, and there is no list of them short of reading every lead."""

    campaigns: list[tuple[str, str]]
    owners: list[tuple[str, str]]
    grades: tuple[str, ...]
    segments: list[str]


def report_choices(session: Session) -> ReportChoices:
    """The options of the report filters, each in a stable order."""
    campaigns = [
        (key, name or key)
        for key, name in session.execute(
            select(Campaign.key, Campaign.name).order_by(Campaign.name, Campaign.key)
        )
    ]
    owners = [
        (email, name or email)
        for email, name in session.execute(
            select(SalesRep.email, SalesRep.name).order_by(SalesRep.name, SalesRep.email)
        )
    ]
    team = active_team(session)
    segments = [segment.id for segment in team.segments] if team else []
    return ReportChoices(campaigns, owners, GRADES, segments)

"""Hooks that enrol leads when something happens to them (called inside the use case's
transaction, so the enrolment commits or rolls back with the change that caused it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from nurture.models import Lead


def lead_created(session: Session, lead: Lead, now: datetime) -> None:
    """A new lead exists (import, API, form): enrol it in campaigns triggered by creation."""
    from nurture.campaigns.enrolment import enrol_on_trigger

    enrol_on_trigger(session, lead, now, kind="lead_created")


def stage_changed(session: Session, lead: Lead, now: datetime) -> None:
    """A lead entered a new lifecycle stage: enrol it in campaigns triggered by that stage
    (``stage_changed: [recycled]`` starts the recycle track)."""
    from nurture.campaigns.enrolment import enrol_on_trigger

    enrol_on_trigger(session, lead, now, kind="stage_changed", stage=lead.stage)

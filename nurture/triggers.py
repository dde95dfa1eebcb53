"""Hooks that enrol leads when something happens to them (called inside the use case's
transaction, so the enrolment commits or rolls back with the change that caused it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from nurture.models import Lead


def lead_created(session: Session, lead: Lead, now: datetime) -> None:
    """A new lead exists (import, API, form): enrol it in campaigns triggered by creation."""
    from nurture.enrolment import enrol_on_trigger

    enrol_on_trigger(session, lead, now, kind="lead_created")

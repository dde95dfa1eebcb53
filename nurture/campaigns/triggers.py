"""Enrolment triggers: campaigns react to what happens to leads, inside the use case's
transaction, so the enrolment commits or rolls back with the change that caused it.

Leads and consent sit below campaigns and never import them: they send named events
(``nurture.platform.hooks``) that :func:`subscribe` connects here at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from nurture.campaigns import enrolment, reevaluation
from nurture.models import Lead
from nurture.platform import hooks


def lead_created(session: Session, lead: Lead, now: datetime) -> None:
    """A new lead exists (import, API, form) or a pending one confirmed: enrol it in
    campaigns triggered by creation."""
    enrolment.enrol_on_trigger(session, lead, now, kind="lead_created")


def leads_created(session: Session, leads: Sequence[Lead], now: datetime) -> None:
    """New leads exist (a batch of an import, an API call): enrol them in campaigns
    triggered by creation, each campaign deciding for the whole set (no outcomes: nothing
    here reads them)."""
    enrolment.enter_set_on_trigger(session, leads, now, kind="lead_created")


def stage_changed(session: Session, lead: Lead, now: datetime) -> None:
    """A lead entered a new lifecycle stage: enrol it in campaigns triggered by that stage
    (``stage_changed: [recycled]`` starts the recycle track)."""
    enrolment.enrol_on_trigger(session, lead, now, kind="stage_changed", stage=lead.stage)


def leads_changed(
    session: Session,
    leads: Sequence[Lead],
    now: datetime,
    changed: Mapping[int, Iterable[str]] | None = None,
) -> None:
    """Existing leads changed (data, consent, a lifted suppression): enrol them where an
    entry refused before now admits them, then where an ``attribute_changed`` trigger names
    what changed (``nurture.campaigns.reevaluation``)."""
    reevaluation.reevaluate_entries(session, leads, now)
    reevaluation.fire_attribute_triggers(session, leads, changed or {}, now)


def subscribe() -> None:
    """Connect campaigns to the named events below them (start-up)."""
    hooks.leads_created.connect(_on_leads_created, weak=False)
    hooks.lead_changed.connect(_on_lead_changed, weak=False)
    hooks.leads_changed.connect(_on_leads_changed, weak=False)
    hooks.stage_changed.connect(_on_stage_changed, weak=False)


# The receivers look the trigger functions up at call time, so a test can replace one.
def _on_leads_created(session: Session, *, leads: Sequence[Lead], now: datetime) -> None:
    leads_created(session, leads, now)


def _on_lead_changed(session: Session, *, lead: Lead, now: datetime) -> None:
    enrolment.lead_changed(session, lead, now)


def _on_stage_changed(session: Session, *, lead: Lead, now: datetime) -> None:
    stage_changed(session, lead, now)


def _on_leads_changed(
    session: Session,
    *,
    leads: Sequence[Lead],
    now: datetime,
    changed: Mapping[int, Iterable[str]],
) -> None:
    leads_changed(session, leads, now, changed)

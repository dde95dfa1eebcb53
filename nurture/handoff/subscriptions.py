"""What the handoff listens to: its own log (the SLA clock and webhooks follow each entry),
and what it gives the layers below it to render its emails and validate their templates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.handoff import events, mail, samples
from nurture.handoff.account_scores import refresh_account_scores
from nurture.handoff.sla import mail as sla_mail
from nurture.models import Handoff, Lead
from nurture.platform import hooks
from nurture.platform.config import Settings
from nurture.platform.runtime import settings_of
from nurture.sending import kinds


def subscribe() -> None:
    """Connect the handoff to the named events and registries below it (start-up)."""
    hooks.handoff_action.connect(_follow_action, weak=False)
    # The accounts' rolled-up scores follow their people's scores and data.
    hooks.leads_rescored.connect(_rescored, weak=False)
    hooks.leads_data_changed.connect(_data_changed, weak=False)
    kinds.register_context((kinds.HANDOFF, kinds.AUTO_REPLY), mail.template_extras)
    kinds.register_context((kinds.SLA_REMINDER, kinds.SLA_ESCALATION), sla_mail.template_context)
    samples.register_samples()


def _follow_action(
    session: Session, *, handoff: Handoff, action: str, now: datetime, detail: dict[str, Any]
) -> None:
    events.on_action(session, handoff, action, now, detail)


def _method(session: Session) -> str:
    settings = settings_of(session)
    return settings.account_score if settings is not None else Settings.account_score


def _rescored(session: Session, *, lead_ids: Sequence[int], now: datetime) -> None:
    if not lead_ids:
        return
    accounts = session.scalars(
        select(Lead.account_id).where(Lead.id.in_(lead_ids), Lead.account_id.is_not(None))
    )
    refresh_account_scores(session, {a for a in accounts if a}, now, _method(session))


def _data_changed(
    session: Session, *, leads: Sequence[Lead], now: datetime, account_ids: Iterable[int]
) -> None:
    ids = {lead.account_id for lead in leads if lead.account_id} | set(account_ids)
    if ids:
        refresh_account_scores(session, ids, now, _method(session))

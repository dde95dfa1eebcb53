"""Phase one of a tick: claim due enrolments, decide each with the drip rules, and record
the sends, in one transaction; and claiming the messages due for a retry.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers share the
work without overlap. The facts the batch's campaigns need are loaded in a few queries, the
pure drip rules decide, and one ``Message`` is inserted per send (the unique key on enrolment
and step makes a second copy impossible to record) with a lease in ``next_attempt_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session, selectinload

from nurture.campaigns.drip import Decision, Defaults, LeadFacts, Position, advance
from nurture.campaigns.editing import remap_position
from nurture.campaigns.facts import Needs, lead_facts_base, load_batch_facts
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.spec import FrequencyCap, SendWindow
from nurture.consent.rules import is_mailable, wants_topic
from nurture.models import (
    Campaign,
    Enrollment,
    EnrollmentHistory,
    Lead,
    Message,
    load_lead_rows,
)
from nurture.platform.config import Settings
from nurture.platform.db import allocate_ids, bulk_insert, bulk_update, table_of, transaction
from nurture.platform.runtime import Runtime
from nurture.sending.kinds import INTERNAL_KINDS, recipient_locales, template_extras
from nurture.sending.mime import new_message_id
from nurture.sending.policy import load_budget, sending_policy
from nurture.sending.specs import SpecCache
from nurture.sending.tick import Prepared, TickReport
from nurture.tracking.tokens import new_message_token


@dataclass(slots=True)
class Claimed:
    """A claimed enrolment's columns that deciding reads (and a remap may change): plain
    values, not an ORM object, which costs several times as much to load per row and is
    written back by the batch's one UPDATE anyway."""

    id: int
    lead_id: int
    campaign_id: int
    version_id: int
    track: str
    step: str | None
    step_started_at: datetime | None
    enrolled_at: datetime


_CLAIMED_COLUMNS = (
    Enrollment.id,
    Enrollment.lead_id,
    Enrollment.campaign_id,
    Enrollment.version_id,
    Enrollment.track,
    Enrollment.step,
    Enrollment.step_started_at,
    Enrollment.enrolled_at,
)


class Decider:
    """Claims and decides batches for the engine; shares the engine's spec cache."""

    def __init__(self, runtime: Runtime, specs: SpecCache, mail_domain: str) -> None:
        self.runtime = runtime
        self.settings: Settings = runtime.settings
        self._specs = specs
        self._mail_domain = mail_domain
        self.defaults = Defaults(
            send_window=_window(self.settings),
            frequency_cap=_cap(self.settings),
            timezone=self.settings.default_timezone,
            quiet_hours=self.settings.quiet_hours,
        )
        self.policy = sending_policy(self.settings)

    # ------------------------------------------------------------------ phase 1: decide

    def decide_batch(self, now: datetime, report: TickReport) -> list[Prepared] | None:
        """Claim and decide one batch; None when nothing was due."""
        with transaction(self.runtime.sessions) as session:
            enrollments = self._claim_enrollments(session, now)
            if not enrollments:
                return None
            report.claimed += len(enrollments)
            campaigns = {
                c.id: c
                for c in session.scalars(
                    select(Campaign).where(Campaign.id.in_({e.campaign_id for e in enrollments}))
                )
            }
            # Plain column values: deciding and rendering only read the leads.
            leads = load_lead_rows(session, (e.lead_id for e in enrollments))
            specs: dict[int, CampaignSpec] = {}
            orphaned: set[int] = set()
            needs = Needs()
            widest_cap = self.defaults.frequency_cap.per
            for enrollment in enrollments:
                campaign = campaigns[enrollment.campaign_id]
                spec, survived = self._current_spec(session, enrollment, campaign, now)
                specs[enrollment.id] = spec
                if not survived:
                    orphaned.add(enrollment.id)
                needs = needs | self._specs.needs[campaign.active_version_id or 0]
                if spec.frequency_cap and spec.frequency_cap.per > widest_cap:
                    widest_cap = spec.frequency_cap.per
            facts = load_batch_facts(session, enrollments, needs, now=now, cap_period=widest_cap)
            budget = load_budget(session, self.policy, now)
            base = {lead_id: lead_facts_base(lead, now) for lead_id, lead in leads.items()}

            messages: list[dict[str, Any]] = []
            prepared: list[Prepared] = []
            history: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            lease_until = now + self.settings.send_lease
            for enrollment in enrollments:
                lead = leads[enrollment.lead_id]
                spec = specs[enrollment.id]
                blocked = budget.blocked(lead.email) if budget is not None else None
                lead_base = base[lead.id]
                if spec.topic is not None and not wants_topic(lead, spec.topic):
                    # Opted out of this campaign's topic in the preference centre.
                    lead_base = {**lead_base, "mailable": False}
                lead_facts = LeadFacts(
                    **lead_base,
                    opened_steps=frozenset(facts.opened_steps.get(enrollment.id, ())),
                    clicked={
                        step: frozenset(urls)
                        for step, urls in facts.clicked.get(enrollment.id, {}).items()
                    },
                    events={
                        kind: at
                        for kind, at in facts.events.get(lead.id, {}).items()
                        if at >= enrollment.enrolled_at
                    },
                    sent_templates=frozenset(facts.sent_templates.get(enrollment.id, ())),
                    recent_sends=tuple(facts.recent_sends.get(lead.id, ())),
                    send_blocked_until=blocked[0] if blocked else None,
                    send_blocked_reason=blocked[1] if blocked else "",
                )
                position = Position(enrollment.track, enrollment.step, enrollment.step_started_at)
                if enrollment.id in orphaned:
                    decision = Decision(position, status="completed", history=[])
                    decision.exit_reason = "its step was removed from the campaign"
                else:
                    decision = advance(spec, position, lead_facts, now, self.defaults)
                updates.append(_enrollment_update(enrollment, decision, now))
                history.extend(
                    {
                        "enrollment_id": enrollment.id,
                        "at": now,
                        "action": entry.action,
                        "track": entry.track,
                        "step": entry.step,
                        "detail": dict(entry.detail),
                    }
                    for entry in decision.history
                )
                _count(report, decision)
                if decision.send is not None:
                    # The cap counts this email for the lead's other enrolments in the batch.
                    facts.recent_sends[lead.id].append(now)
                    if budget is not None:
                        budget.take(lead.email)
                    token = new_message_token()
                    message_id = new_message_id(self._mail_domain).strip("<>")  # stored bare
                    messages.append(
                        {
                            "lead_id": lead.id,
                            "campaign_id": enrollment.campaign_id,
                            # _current_spec moved the enrolment onto the active version.
                            "campaign_version_id": enrollment.version_id,
                            "enrollment_id": enrollment.id,
                            "step_key": decision.send.key,
                            "kind": "campaign",
                            "template": decision.send.template,
                            "to_address": lead.email,
                            "message_id": message_id,
                            "token": token,
                            "status": "sending",
                            "attempts": 0,
                            "next_attempt_at": lease_until,
                            "queued_at": now,
                        }
                    )
                    prepared.append(
                        Prepared(
                            message_pk=0,
                            token=token,
                            message_id=message_id,
                            template=decision.send.template,
                            to_address=lead.email,
                            lead=lead,
                            campaign=campaigns[enrollment.campaign_id],
                        )
                    )
            if messages:
                self._insert_messages(session, messages, prepared)
            # One statement per table (unnest on PostgreSQL), not the ORM bulk paths.
            connection = session.connection()
            bulk_update(connection, table_of(Enrollment), updates)
            bulk_insert(connection, table_of(EnrollmentHistory), history)
        return prepared

    @staticmethod
    def _insert_messages(
        session: Session, messages: list[dict[str, Any]], prepared: list[Prepared]
    ) -> None:
        """Insert the batch's messages and note their ids on ``prepared``."""
        ids = allocate_ids(session, "messages", len(messages))
        if ids is not None:
            for row, item, pk in zip(messages, prepared, ids, strict=True):
                row["id"] = item.message_pk = pk
            bulk_insert(session.connection(), table_of(Message), messages)
            return
        rows = session.execute(
            insert(Message).returning(Message.id, Message.token, sort_by_parameter_order=True),
            messages,
        ).all()
        for item, (pk, token) in zip(prepared, rows, strict=True):
            assert item.token == token
            item.message_pk = pk

    def _claim_enrollments(self, session: Session, now: datetime) -> list[Claimed]:
        # SKIP LOCKED lets concurrent workers each take different rows instead of queueing
        # on the same ones; SQLite ignores it (one worker holds the write lock there).
        stmt = (
            select(*_CLAIMED_COLUMNS)
            .join(Campaign, Campaign.id == Enrollment.campaign_id)
            .where(Enrollment.next_due_at <= now, Campaign.status == "active")
            .order_by(Enrollment.next_due_at)
            .limit(self.settings.batch_size)
            .with_for_update(skip_locked=True, of=Enrollment)
        )
        return [Claimed(*row) for row in session.execute(stmt)]

    def _current_spec(
        self, session: Session, enrollment: Claimed, campaign: Campaign, now: datetime
    ) -> tuple[CampaignSpec, bool]:
        """The campaign's active spec, and False when the enrolment's position did not
        survive an edit of the campaign (it then completes).

        An enrolment on an older version is re-mapped onto the active one by step id (see
        docs/campaigns.md, "Editing a live campaign").
        """

        active_id = campaign.active_version_id
        assert active_id is not None, "claimed enrolments belong to active campaigns"
        spec = self._specs.spec(session, active_id)
        if enrollment.version_id == active_id:
            return spec, True
        old = self._specs.spec(session, enrollment.version_id)
        track, step = remap_position(old, spec, enrollment.track, enrollment.step)
        session.add(
            EnrollmentHistory(
                enrollment_id=enrollment.id,
                at=now,
                action="remapped",
                track=track,
                step=step,
                detail={
                    "from_version": enrollment.version_id,
                    "to_version": active_id,
                    "from": f"{enrollment.track}/{enrollment.step}",
                },
            )
        )
        enrollment.version_id = active_id
        if track is None:
            # The old track is gone: the drip rules move the lead to the matching one.
            enrollment.track, enrollment.step, enrollment.step_started_at = "", None, None
            return spec, True
        if step is None:
            return spec, False
        if step != enrollment.step:
            enrollment.step_started_at = None
        enrollment.track, enrollment.step = track, step
        return spec, True

    # ------------------------------------------------------------------ retries

    def claim_retries(self, now: datetime) -> list[Prepared] | None:
        """Claim deferred messages whose retry time has come, and claimed ones whose worker
        died before recording an outcome (their lease ran out); None when there are none.
        Campaign emails to leads that can no longer be mailed are cancelled, not sent."""
        with transaction(self.runtime.sessions) as session:
            messages = session.scalars(
                select(Message)
                .outerjoin(Campaign, Campaign.id == Message.campaign_id)
                .where(
                    Message.status.in_(("deferred", "sending")),
                    Message.next_attempt_at <= now,
                    # A paused campaign's retries wait for it to be resumed.
                    or_(Campaign.id.is_(None), Campaign.status != "paused"),
                )
                .order_by(Message.next_attempt_at)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True, of=Message)
            ).all()
            if not messages:
                return None
            leads = {
                lead.id: lead
                for lead in session.scalars(
                    select(Lead)
                    .where(Lead.id.in_({m.lead_id for m in messages}))
                    .options(selectinload(Lead.account))
                )
            }
            campaigns = {
                c.id: c
                for c in session.scalars(
                    select(Campaign).where(
                        Campaign.id.in_({m.campaign_id for m in messages if m.campaign_id})
                    )
                )
            }
            extras = template_extras(session, messages, self.settings, now)
            locales = recipient_locales(
                session, {m.to_address for m in messages if m.kind in INTERNAL_KINDS}
            )
            lease_until = now + self.settings.send_lease
            prepared = []
            for message in messages:
                lead = leads[message.lead_id]
                if message.kind == "campaign" and not is_mailable(lead):
                    # Unsubscribed, suppressed or withdrawn since the first attempt.
                    message.status, message.next_attempt_at = "cancelled", None
                    message.error = "not sent: the lead can no longer be mailed"
                    continue
                message.status = "sending"
                message.next_attempt_at = lease_until
                prepared.append(
                    Prepared(
                        message_pk=message.id,
                        token=message.token,
                        message_id=message.message_id,
                        template=message.template,
                        to_address=message.to_address,
                        lead=lead,
                        campaign=campaigns.get(message.campaign_id or 0),
                        attempts=message.attempts,
                        kind=message.kind,
                        extra=extras.get(message.id),
                        locale=locales.get(message.to_address.lower()),
                    )
                )
        return prepared


def _enrollment_update(enrollment: Claimed, decision: Decision, now: datetime) -> dict[str, Any]:
    finished = decision.status != "active"
    return {
        "id": enrollment.id,
        "track": decision.position.track,
        "step": decision.position.step,
        "step_started_at": decision.position.step_started_at,
        "next_due_at": decision.next_due_at,
        "status": decision.status,
        "version_id": enrollment.version_id,
        "finished_at": now if finished else None,
        "exit_reason": decision.exit_reason if finished else None,
    }


def _count(report: TickReport, decision: Decision) -> None:
    if decision.status == "completed":
        report.completed += 1
    elif decision.status == "exited":
        report.exited += 1


def _window(settings: Settings) -> SendWindow:
    window = settings.send_window
    return SendWindow(days=window.days, start=window.start, end=window.end, timezone=None)


def _cap(settings: Settings) -> FrequencyCap:
    return FrequencyCap(settings.frequency_cap.max_emails, settings.frequency_cap.per)

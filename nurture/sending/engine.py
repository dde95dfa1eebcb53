"""The send engine: claim due enrolments, decide, record, then render and deliver.

One tick repeats two phases until nothing is due:

1. **Decide** (one transaction): claim a batch of due enrolments (``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, so any number of workers share the work without overlap), load the facts
   the batch's campaigns need in a few queries, run the pure drip rules, insert one
   ``Message`` per send (the unique key on enrolment and step makes a second copy impossible
   to record), move the enrolments on, and commit.
2. **Deliver** (after the commit, as the design requires): render each message from the
   cached template, build its MIME bytes, hand the batch to the transport (SMTP or the
   local outbox), and record the outcomes in one more transaction.

A message is claimed with a lease (``next_attempt_at``): if the worker dies after the commit
but before recording the outcome, a later tick sends it again once the lease runs out.
Temporary failures are retried with backoff; permanent ones are recorded as failed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from nurture.campaigns.drip import Decision, Defaults, LeadFacts, Position, advance
from nurture.campaigns.facts import Needs, campaign_needs, lead_facts_base, load_batch_facts
from nurture.campaigns.loader import remap_position
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.spec import FrequencyCap, SendWindow
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.consent.rules import is_mailable, wants_topic
from nurture.models import Campaign, Enrollment, EnrollmentHistory, Event, Lead, Message
from nurture.platform.config import Settings
from nurture.platform.db import allocate_ids, bulk_insert, bulk_update, transaction
from nurture.platform.runtime import Runtime
from nurture.rendering.library import (
    TemplateError,
    TemplateLibrary,
    build_context,
    template_library,
)
from nurture.sending.delivery import (
    DeliveryResult,
    Outgoing,
    Transport,
    retry_delay,
)
from nurture.sending.kinds import INTERNAL_KINDS, template_extras
from nurture.sending.mime import MessageBuilder, new_message_id
from nurture.sending.policy import load_budget, sending_policy
from nurture.sending.transports import make_transport
from nurture.tracking.links import link_signer, track_links
from nurture.tracking.tokens import MessageSigner, message_urls, new_message_token

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one tick did (printed by ``nurture tick``, logged by the worker)."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    retried: int = 0
    completed: int = 0
    exited: int = 0
    waiting: int = 0
    batches: int = 0

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed} enrolments in {self.batches} batches; emails sent "
            f"{self.sent}, deferred {self.deferred}, failed {self.failed} (retries "
            f"{self.retried}); enrolments completed {self.completed}, exited {self.exited}"
        )


@dataclass
class Prepared:
    """A message recorded in the decide phase, with what is needed to render it."""

    message_pk: int
    token: str
    message_id: str
    template: str
    to_address: str
    lead: Lead
    campaign: Campaign | None
    attempts: int = 0
    # Transactional messages (handoff notifications, auto-replies): their kind, and what
    # their template sees besides the lead (nurture.handoff.mail.template_extras).
    kind: str = "campaign"
    extra: dict[str, Any] | None = None


Outcome = tuple[DeliveryResult | None, str | None, str | None, str | None]


@dataclass
class Built:
    """A batch ready for the transport: MIME bytes per message, and the outcomes known
    before sending (template errors)."""

    prepared: list[Prepared]
    outgoing: list[Outgoing] = field(default_factory=list)
    sendable: list[tuple[Prepared, str, str]] = field(default_factory=list)
    results: dict[int, Outcome] = field(default_factory=dict)


class DeliveryLane:
    """A thread that sends and records built batches one at a time, in order.

    At most one batch waits while another is in flight, so memory stays bounded. If the
    lane fails (SMTP transport bug, database down while recording), ``submit`` re-raises
    the error in the caller; messages it had not recorded keep their ``sending`` lease
    and are retried by a later tick, never lost. Leaving the ``with`` block always waits
    for the batch in flight, so an error in the caller cannot drop recorded outcomes.
    """

    def __init__(
        self, work: Callable[[Built, datetime, TickReport], None], now: datetime, report: TickReport
    ) -> None:
        self._work = work
        self._now = now
        self._report = report
        self._queue: queue.Queue[Built | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="nurture-delivery", daemon=True)

    def __enter__(self) -> DeliveryLane:
        return self

    def submit(self, built: Built) -> None:
        """Queue a batch (blocks while the lane is still busy with the one before)."""
        self._raise_if_failed()
        if not self._thread.is_alive():
            # Started on the first batch: an idle tick (nothing due) costs no thread.
            self._thread.start()
        self._queue.put(built)

    def __exit__(self, *exc_info: object) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if exc_info[0] is None:
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError("the delivery lane failed") from self._error

    def _run(self) -> None:
        while (built := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the caller sees the error on its next submit
            try:
                self._work(built, self._now, self._report)
            except BaseException as exc:  # re-raised in the caller's thread
                log.exception("delivery lane failed")
                self._error = exc


@dataclass
class _SpecCache:
    by_version: dict[int, CampaignSpec] = field(default_factory=dict)
    needs: dict[int, Needs] = field(default_factory=dict)


class Engine:
    """Advances due enrolments and delivers their emails. One per worker process."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        transport: Transport | None = None,
        templates: TemplateLibrary | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings: Settings = runtime.settings
        self.transport = transport or make_transport(runtime.settings, runtime.sessions)
        self.templates = templates or template_library(runtime)
        self.signer = MessageSigner(runtime.settings.secret_key)
        self.builder = MessageBuilder()
        self._specs = _SpecCache()
        self._envelope_address = parseaddr(self.settings.mail_from)[1]
        self._mail_domain = self._envelope_address.rpartition("@")[2] or "localhost"
        self.defaults = Defaults(
            send_window=_window(self.settings),
            frequency_cap=_cap(self.settings),
            timezone=self.settings.default_timezone,
            quiet_hours=self.settings.quiet_hours,
        )
        self.policy = sending_policy(self.settings)

    def close(self) -> None:
        self.transport.close()

    # ------------------------------------------------------------------ the tick

    def tick(self, now: datetime, *, max_batches: int | None = None) -> TickReport:
        """Process everything due at ``now``: decide and deliver in batches, then retries.

        Batches are pipelined: while the delivery lane sends batch k over SMTP and records
        its outcomes, this thread claims, decides and renders batch k+1. SMTP and database
        round trips wait on sockets (the GIL is free then), so the two overlap on one core.
        """
        report = TickReport()
        with DeliveryLane(self._send_and_record, now, report) as lane:
            while max_batches is None or report.batches < max_batches:
                prepared = self._decide_batch(now, report)
                if prepared is None:
                    break
                report.batches += 1
                if prepared:
                    lane.submit(self._build_batch(prepared, now))
        # Retries last, once the lane has recorded every outcome of this tick's batches.
        while max_batches is None or report.batches < max_batches:
            retries = self._claim_retries(now)
            if retries is None:
                break
            report.batches += 1
            report.retried += len(retries)
            if retries:
                self._deliver(retries, now, report)
        return report

    # ------------------------------------------------------------------ phase 1: decide

    def _decide_batch(self, now: datetime, report: TickReport) -> list[Prepared] | None:
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
            leads = {
                lead.id: lead
                for lead in session.scalars(
                    select(Lead)
                    .where(Lead.id.in_({e.lead_id for e in enrollments}))
                    .options(selectinload(Lead.account))
                )
            }
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
            bulk_update(connection, Enrollment.__table__, updates)
            bulk_insert(connection, EnrollmentHistory.__table__, history)
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
            bulk_insert(session.connection(), Message.__table__, messages)
            return
        rows = session.execute(
            insert(Message).returning(Message.id, Message.token, sort_by_parameter_order=True),
            messages,
        ).all()
        for item, (pk, token) in zip(prepared, rows, strict=True):
            assert item.token == token
            item.message_pk = pk

    def _claim_enrollments(self, session: Session, now: datetime) -> Sequence[Enrollment]:
        # SKIP LOCKED lets concurrent workers each take different rows instead of queueing
        # on the same ones; SQLite ignores it (one worker holds the write lock there).
        stmt = (
            select(Enrollment)
            .join(Campaign, Campaign.id == Enrollment.campaign_id)
            .where(Enrollment.next_due_at <= now, Campaign.status == "active")
            .order_by(Enrollment.next_due_at)
            .limit(self.settings.batch_size)
            .with_for_update(skip_locked=True, of=Enrollment)
        )
        return session.scalars(stmt).all()

    def _current_spec(
        self, session: Session, enrollment: Enrollment, campaign: Campaign, now: datetime
    ) -> tuple[CampaignSpec, bool]:
        """The campaign's active spec, and False when the enrolment's position did not
        survive an edit of the campaign (it then completes).

        An enrolment on an older version is re-mapped onto the active one by step id (see
        docs/campaigns.md, "Editing a live campaign").
        """

        active_id = campaign.active_version_id
        assert active_id is not None, "claimed enrolments belong to active campaigns"
        spec = self._spec(session, active_id)
        if enrollment.version_id == active_id:
            return spec, True
        old = self._spec(session, enrollment.version_id)
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

    def _spec(self, session: Session, version_id: int) -> CampaignSpec:
        spec = self._specs.by_version.get(version_id)
        if spec is None:
            spec = campaign_spec_for_version(session, version_id)
            self._specs.by_version[version_id] = spec
            self._specs.needs[version_id] = campaign_needs(spec)
        return spec

    # ------------------------------------------------------------------ retries

    def _claim_retries(self, now: datetime) -> list[Prepared] | None:
        """Claim deferred messages whose retry time has come, and claimed ones whose worker
        died before recording an outcome (their lease ran out); None when there are none.
        Campaign emails to leads that can no longer be mailed are cancelled, not sent."""
        with transaction(self.runtime.sessions) as session:
            messages = session.scalars(
                select(Message)
                .where(
                    Message.status.in_(("deferred", "sending")),
                    Message.next_attempt_at <= now,
                )
                .order_by(Message.next_attempt_at)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True)
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
            extras = template_extras(session, messages, self.settings)
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
                    )
                )
        return prepared

    # ------------------------------------------------------------------ phase 2: deliver

    def _deliver(self, prepared: list[Prepared], now: datetime, report: TickReport) -> None:
        """Render, send and record one batch on this thread (used for retries)."""
        self._send_and_record(self._build_batch(prepared, now), now, report)

    def _build_batch(self, prepared: list[Prepared], now: datetime) -> Built:
        """Render and build the MIME bytes of a batch; template errors fail only their email."""
        built = Built(prepared)
        for item in prepared:
            try:
                data, subject, version = self._build(item, now)
            except TemplateError as exc:
                # Validation should have caught this; never let one email stop the batch.
                log.error(
                    "template %s failed for message %s: %s", item.template, item.message_pk, exc
                )
                built.results[item.message_pk] = (None, None, None, f"template error: {exc}")
                continue
            built.outgoing.append(
                Outgoing(
                    message_pk=item.message_pk,
                    envelope_from=self._envelope_address,
                    to=item.to_address,
                    data=data,
                    subject=subject,
                )
            )
            built.sendable.append((item, subject, version))
        return built

    def _send_and_record(self, built: Built, now: datetime, report: TickReport) -> None:
        """Hand a built batch to the transport, then record every outcome."""
        delivered = self.transport.send_many(built.outgoing) if built.outgoing else []
        for (item, subject, version), result in zip(built.sendable, delivered, strict=True):
            built.results[item.message_pk] = (result, subject, version, None)
        self._record(built.prepared, built.results, now, report)

    def _build(self, item: Prepared, now: datetime) -> tuple[bytes, str, str]:
        signed = self.signer.sign(item.token)
        urls = message_urls(self.settings.public_url, signed)
        context = build_context(
            item.lead, campaign=item.campaign, urls=urls, settings=self.settings
        )
        if item.extra:
            context.update(item.extra)
        rendered = self.templates.render(item.template, context)
        # An internal email (a handoff notification to a rep) is not about the recipient's
        # engagement: no click tracking, and no unsubscribe header that would unsubscribe
        # the lead it is about.
        internal = item.kind in INTERNAL_KINDS
        if not internal:
            # Click tracking (nurture/tracking/links.py): signed click URLs, the campaign's UTM, a
            # honeypot.
            version = item.campaign.active_version_id if item.campaign else None
            spec = self._specs.by_version.get(version or 0)
            if spec is None and version:  # a retry after a restart: the spec is not cached
                with transaction(self.runtime.sessions) as session:
                    spec = self._spec(session, version)
            rendered = track_links(
                rendered, token=item.token, signer=link_signer(self.settings.secret_key),
                public_url=self.settings.public_url, utm=spec.utm if spec else None,
            )  # fmt: skip
        headers = {"X-Nurture-Message": item.token}
        if not internal:
            headers = {
                "List-Unsubscribe": (
                    f"<{urls['unsubscribe_url']}>, "
                    f"<mailto:unsubscribe+{item.token}@{self._mail_domain}>"
                ),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                **headers,
            }
        data = self.builder.build_email(
            rendered,
            from_addr=self.settings.mail_from,
            to_addr=item.to_address,
            message_id=item.message_id,
            date=now,
            headers=headers,
        )
        return data, rendered.subject, rendered.version

    def _record(
        self,
        prepared: list[Prepared],
        results: dict[int, Outcome],
        now: datetime,
        report: TickReport,
    ) -> None:
        updates: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        max_attempts = self.settings.smtp_max_attempts
        for item in prepared:
            result, subject, version, error = results[item.message_pk]
            attempts = item.attempts + 1
            # Every row names every column: one executemany needs one statement shape.
            row: dict[str, Any] = {
                "id": item.message_pk,
                "attempts": attempts,
                "subject": subject[:500] if subject is not None else None,
                "template_version": version,
                "smtp_code": result.code if result else None,
                "smtp_reply": result.reply if result else None,
                "error": error,
                "sent_at": None,
                "next_attempt_at": None,
            }
            if result is None:
                row["status"] = "failed"
                report.failed += 1
            elif result.status == "sent":
                row.update(status="sent", sent_at=now)
                report.sent += 1
            elif result.status == "temporary" and attempts < max_attempts:
                row.update(status="deferred", next_attempt_at=now + retry_delay(attempts))
                report.deferred += 1
            else:
                row["status"] = "failed"
                report.failed += 1
            updates.append(row)
            if row["status"] in ("sent", "failed"):
                # A message about the lead to someone else (a rep's handoff notification,
                # an SLA reminder) is not an email the lead got: it must not show or count
                # as one on the lead's timeline and in its campaign numbers.
                about = item.kind in INTERNAL_KINDS
                prefix = "notification." if about else "email."
                events.append(
                    {
                        "lead_id": item.lead.id,
                        "type": prefix + ("sent" if row["status"] == "sent" else "failed"),
                        "message_id": item.message_pk,
                        "occurred_at": now,
                        "recorded_at": now,
                        "properties": {
                            "template": item.template,
                            "subject": row.get("subject"),
                            "campaign": item.campaign.key if item.campaign else None,
                            **({"kind": item.kind} if about else {}),
                            **(
                                {"reply": row.get("smtp_reply") or error}
                                if row["status"] == "failed"
                                else {}
                            ),
                        },
                    }
                )
        with transaction(self.runtime.sessions) as session:
            connection = session.connection()
            bulk_update(connection, Message.__table__, updates)
            bulk_insert(connection, Event.__table__, events)


def _enrollment_update(enrollment: Enrollment, decision: Decision, now: datetime) -> dict[str, Any]:
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

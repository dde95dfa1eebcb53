"""Ingest: apply classified bounces and complaints to leads and messages (one use case).

``ingest_message`` runs inside the caller's transaction (one per message file) and:

* records a ``BounceReceipt`` keyed by the bounce's own Message-ID (or a hash of its bytes
  when it has none), so the same bounce ingested twice is applied once;
* finds each failed recipient's lead by address, or through the quoted original's
  ``X-Nurture-Message`` token / Message-ID (ARF reports often redact the address);
* hard bounce → suppressed now; soft bounce → counted, suppressed at the configured limit;
  complaint → suppressed and unsubscribed; sender-side problem → recorded and reported,
  the lead untouched; ignore → nothing;
* writes ``email.bounced`` / ``email.complained`` on the lead's timeline and marks the
  message (its status stays ``sent``: the SMTP hand-off did succeed).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nurture.consent import suppression
from nurture.models import BounceReceipt, Event, Lead, Message
from nurture.platform.db import transaction, utcnow
from nurture.sending.bounces.classify import BounceReport, FailedRecipient, classify_bytes
from nurture.sending.bounces.rules import COMPLAINT, IGNORE, RETRY, SENDER_ISSUE, SUPPRESS
from nurture.tracking import refresh_engagement

log = logging.getLogger(__name__)


@dataclass
class RecipientOutcome:
    """What the ingest did for one failed recipient."""

    recipient: str
    status: str
    decision: str
    reason: str
    action: str  # suppressed | counted | complained | sender_issue | ignored | no_lead
    lead_id: int | None = None
    message_id: int | None = None


@dataclass
class IngestResult:
    """What happened to one message file."""

    label: str
    state: str  # applied | duplicate | skipped
    note: str = ""
    outcomes: list[RecipientOutcome] = field(default_factory=list)

    @property
    def sender_issues(self) -> list[RecipientOutcome]:
        """Outcomes the operator must look at (the receiving side refused us)."""
        return [o for o in self.outcomes if o.decision == SENDER_ISSUE]


def ingest_file(
    sessions: sessionmaker[Session],
    raw: bytes,
    *,
    label: str,
    soft_bounce_limit: int,
    now: datetime | None = None,
) -> IngestResult:
    """Ingest one message file in its own transaction (the CLI's and the webhook's entry).

    A concurrent ingest of the same bounce loses the race on the receipt's unique key;
    run again, it sees the winner's receipt and reports a duplicate.
    """
    for attempt in (1, 2):
        try:
            with transaction(sessions) as session:
                return ingest_message(
                    session,
                    raw,
                    label=label,
                    now=now or utcnow(),
                    soft_bounce_limit=soft_bounce_limit,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def fingerprint(raw: bytes, report: BounceReport) -> str:
    """The identity of a bounce: its own Message-ID, else the SHA-256 of its bytes."""
    if report.bounce_message_id:
        return "mid:" + report.bounce_message_id[:290]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def ingest_message(
    session: Session, raw: bytes, *, label: str, now: datetime, soft_bounce_limit: int
) -> IngestResult:
    """Classify one message and apply its decisions in the caller's transaction."""
    report = classify_bytes(raw)
    if report.error or not report.recipients:
        return IngestResult(label, "skipped", report.error or "no failed recipient found")
    key = fingerprint(raw, report)
    if session.scalar(select(BounceReceipt.id).where(BounceReceipt.fingerprint == key)):
        return IngestResult(label, "duplicate", "already ingested")
    receipt = BounceReceipt(fingerprint=key, kind=report.kind, received_at=now, outcomes=[])
    session.add(receipt)
    # Flushing now makes a concurrent ingest of the same bounce fail here, before any
    # lead is touched (the caller retries and then sees the duplicate).
    session.flush()
    message = _find_message(session, report)
    result = IngestResult(label, "applied")
    for failed in report.recipients:
        outcome = _apply_one(session, failed, report, message, now, soft_bounce_limit)
        result.outcomes.append(outcome)
    receipt.outcomes = [
        {"status": o.status, "decision": o.decision, "action": o.action, "lead_id": o.lead_id}
        for o in result.outcomes
    ]
    for issue in result.sender_issues:
        log.warning(
            "bounce %s: sender-side problem reported for %s (%s): %s",
            label,
            issue.recipient or "an unnamed recipient",
            issue.status or "no status",
            issue.reason,
        )
    return result


def _find_message(session: Session, report: BounceReport) -> Message | None:
    conditions = []
    if report.nurture_token:
        conditions.append(Message.token == report.nurture_token[:32])
    if report.original_message_id:
        conditions.append(Message.message_id == report.original_message_id.strip("<>")[:255])
    if not conditions:
        return None
    return session.scalars(select(Message).where(or_(*conditions)).limit(1)).first()


def _find_lead(session: Session, address: str, message: Message | None) -> Lead | None:
    if address:
        lead = session.scalar(
            select(Lead).where(Lead.email == suppression.canonical_email(address))
        )
        if lead is not None:
            return lead
    # The address may be redacted (ARF) or an alias the lead's mail was forwarded to.
    return session.get(Lead, message.lead_id) if message is not None else None


def _apply_one(
    session: Session,
    failed: FailedRecipient,
    report: BounceReport,
    message: Message | None,
    now: datetime,
    soft_bounce_limit: int,
) -> RecipientOutcome:
    outcome = RecipientOutcome(
        failed.recipient, failed.status, failed.decision, failed.reason, "ignored"
    )
    if failed.decision == IGNORE:
        return outcome
    lead = _find_lead(session, failed.recipient, message)
    if lead is None:
        outcome.action = "no_lead"
        return outcome
    outcome.lead_id = lead.id
    if message is not None and message.lead_id == lead.id:
        message.bounced_at = now
        message.bounce_status = (failed.status or failed.reply_code)[:12] or None
        message.bounce_decision = failed.decision
        outcome.message_id = message.id
    detail = {
        "status": failed.status,
        "reply_code": failed.reply_code,
        "reason": failed.reason_code,
    }
    if failed.decision == SUPPRESS:
        lead.bounced_at = now
        suppression.suppress(
            session, lead, reason="hard_bounce", source="bounce", now=now, detail=detail
        )
        outcome.action = "suppressed"
    elif failed.decision == RETRY:
        lead.bounced_at = now
        lead.soft_bounce_count = (lead.soft_bounce_count or 0) + 1
        outcome.action = "counted"
        if lead.soft_bounce_count >= soft_bounce_limit and lead.suppressed_at is None:
            suppression.suppress(
                session,
                lead,
                reason="hard_bounce",
                source="bounce",
                now=now,
                detail={**detail, "soft_bounces": lead.soft_bounce_count},
            )
            outcome.action = "suppressed"
    elif failed.decision == COMPLAINT:
        suppression.suppress(
            session, lead, reason="complaint", source="complaint", now=now, detail=detail
        )
        outcome.action = "complained"
    else:
        # The receiving side refused *us*; the lead keeps its standing.
        outcome.action = "sender_issue"
    event = _event(lead, message, failed, report, outcome, now)
    session.add(event)
    if event.message_id is not None:
        refresh_engagement(session, [event.message_id])
    return outcome


def _event(
    lead: Lead,
    message: Message | None,
    failed: FailedRecipient,
    report: BounceReport,
    outcome: RecipientOutcome,
    now: datetime,
) -> Event:
    properties: dict[str, Any] = {
        "status": failed.status,
        "reply_code": failed.reply_code,
        "decision": failed.decision,
        "reason": failed.reason,
        "reason_code": failed.reason_code,
        "action": outcome.action,
        "kind": report.kind,
    }
    if report.feedback_type:
        properties["feedback_type"] = report.feedback_type
    if outcome.action == "counted" or failed.decision == RETRY:
        properties["soft_bounce_count"] = lead.soft_bounce_count
    return Event(
        lead_id=lead.id,
        type="email.complained" if failed.decision == COMPLAINT else "email.bounced",
        message_id=message.id if message is not None and message.lead_id == lead.id else None,
        campaign_id=message.campaign_id if message is not None else None,
        step_key=message.step_key if message is not None else None,
        occurred_at=now,
        recorded_at=now,
        properties=properties,
    )

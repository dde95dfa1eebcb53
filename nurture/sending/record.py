"""Recording a delivered batch's outcomes: each message's status, a sent or failed event on
the lead's timeline, and what a refusal says about the lead, in one transaction.

A 5xx refusal is classified by the bounce rules (``bounces.rules.classify_smtp_reply``), so
the server's answer during sending and a bounce report that arrives later are judged alike:
a mailbox that does not exist suppresses the lead at once (its remaining steps stop, like
after an asynchronous hard bounce); a refusal that blames the sender (policy, IP
reputation, authentication, "try later") holds the message back for a retry and is logged
for the operator, and the lead keeps its standing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from nurture.consent import suppression
from nurture.models import Event, Lead, Message
from nurture.platform import hooks
from nurture.platform.config import Settings
from nurture.platform.db import bulk_insert, bulk_update, table_of, transaction
from nurture.platform.runtime import Runtime
from nurture.sending.bounces.rules import SENDER_ISSUE, SUPPRESS, Verdict, classify_smtp_reply
from nurture.sending.delivery import DeliveryResult, retry_delay
from nurture.sending.kinds import INTERNAL_KINDS
from nurture.sending.tick import Outcome, Prepared, TickReport

log = logging.getLogger(__name__)


class OutcomeRecorder:
    """Records outcomes as sent, deferred (retried after a backoff) or failed."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings: Settings = runtime.settings

    def record(
        self,
        prepared: list[Prepared],
        results: dict[int, Outcome],
        now: datetime,
        report: TickReport,
    ) -> None:
        """Record the outcome of every message of ``prepared`` (``results`` by message id)."""
        updates: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        hard_bounces: list[tuple[Prepared, DeliveryResult, Verdict]] = []
        max_attempts = self.settings.smtp_max_attempts
        for item in prepared:
            result, subject, version, error = results[item.message_pk]
            attempts = item.attempts + 1
            verdict = _refusal_verdict(item, result)
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
            elif verdict is not None and verdict.decision == SENDER_ISSUE:
                _log_sender_issue(item, result, verdict)
                report.refused_sender += 1
                if attempts < max_attempts:
                    row.update(status="deferred", next_attempt_at=now + retry_delay(attempts))
                    report.deferred += 1
                else:
                    row["status"] = "failed"
                    report.failed += 1
            elif result.status == "temporary" and attempts < max_attempts:
                row.update(status="deferred", next_attempt_at=now + retry_delay(attempts))
                report.deferred += 1
            else:
                row["status"] = "failed"
                report.failed += 1
                if verdict is not None and verdict.decision == SUPPRESS:
                    hard_bounces.append((item, result, verdict))
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
                            **(
                                {"decision": verdict.decision, "reason": verdict.reason}
                                if verdict is not None and row["status"] == "failed"
                                else {}
                            ),
                        },
                    }
                )
        with transaction(self.runtime.sessions) as session:
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                # Outcomes are written a small group at a time, as the mail server answers:
                # the commit need not wait for the disk. A killed worker loses nothing it
                # committed; only a crash of PostgreSQL itself could lose the last fraction
                # of a second of outcomes, whose messages would then be sent again.
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            bulk_update(connection, table_of(Message), updates)
            bulk_insert(connection, table_of(Event), events)
            sent = [row["id"] for row in updates if row["status"] == "sent"]
            if sent:
                hooks.publish(hooks.messages_changed, session, message_ids=sent)
            for item, result, verdict in hard_bounces:
                lead = session.get(Lead, item.lead.id)
                if lead is None:
                    continue
                lead.bounced_at = now
                suppression.suppress(
                    session,
                    lead,
                    reason="hard_bounce",
                    source="smtp",
                    now=now,
                    detail={
                        "reply_code": result.code,
                        "command": result.command,
                        "reason": verdict.reason,
                        "message_id": item.message_pk,
                    },
                )
                report.hard_bounced += 1


def _refusal_verdict(item: Prepared, result: DeliveryResult | None) -> Verdict | None:
    """What a 5xx refusal of a message to a lead says, or None (no refusal, no reply, or a
    message to someone else about the lead: a rep's address is not the lead's)."""
    if result is None or result.status != "permanent" or result.code is None:
        return None
    if item.kind in INTERNAL_KINDS:
        return None
    return classify_smtp_reply(result.code, result.reply, result.command)


def _log_sender_issue(item: Prepared, result: DeliveryResult, verdict: Verdict) -> None:
    log.warning(
        "message %s: the receiving server refused our mail (%s %s at %s): %s; the lead is "
        "not at fault, the message is held back for a retry",
        item.message_pk,
        result.code,
        verdict.reason,
        result.command or "connect",
        verdict.human,
    )

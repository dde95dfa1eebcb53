"""Recording a delivered batch's outcomes: each message's status, and a sent or failed
event on the lead's timeline, in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nurture.models import Event, Message
from nurture.platform.config import Settings
from nurture.platform.db import bulk_insert, bulk_update, table_of, transaction
from nurture.platform.runtime import Runtime
from nurture.sending.delivery import retry_delay
from nurture.sending.kinds import INTERNAL_KINDS
from nurture.sending.tick import Outcome, Prepared, TickReport


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
            bulk_update(connection, table_of(Message), updates)
            bulk_insert(connection, table_of(Event), events)

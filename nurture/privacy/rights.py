"""Data-subject rights and retention: export everything held about a person, erase it,
and purge raw tracking data older than ``NURTURE_TRACKING_RETENTION``.

Export reads the schema generically: every table with a ``lead_id`` column, and every
table pointing at one of those by foreign key (enrolment history, outbox copies), so
tables added later join the export without a change here.

Erase keeps aggregates: the lead row stays as an anonymous tombstone (stage, account,
dates), its stage changes keep their stages and times (the funnel counts them) but lose
their reasons (a rep's note may name the person), its handoffs keep sales' verdicts (dates,
status, outcome, deal value, reject reason code, campaign, source, rule, owner) but lose the
snapshot, notes and tokens (``nurture.handoff.erasure``), messages and events keep their campaign,
template, type and time but lose the address, subject and properties; the address survives
only as a peppered hash on the suppression list. Tables this module does not know are
handled by an eraser registered in ``ERASERS`` or, failing that, their rows of the lead are
deleted (the safe default). What lead imports keep (uploaded files, rejected rows,
previews) is purged of the person's rows by ``nurture.leads.import_erasure``, and imports
refuse the address from then on.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import takewhile
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.orm import Session

from nurture.consent import audit
from nurture.consent.suppression import hash_for, suppress
from nurture.handoff.erasure import anonymise_handoffs
from nurture.handoff.webhooks.service import purge_deliveries
from nurture.leads.fields import ERASABLE_COLUMNS
from nurture.leads.import_erasure import ImportErasure, erase_from_imports
from nurture.leads.queries import get_lead
from nurture.models import (
    AuditLog,
    Event,
    Handoff,
    Lead,
    Message,
    OutboxMessage,
    RevenueEntry,
    StageChange,
    TrackingHit,
    WebhookDelivery,
)
from nurture.platform.config import Settings
from nurture.platform.db import Base, rows_affected

# Tables erase() handles itself (anonymised, not deleted) and those that hold nothing
# personal beyond the lead id.
_HANDLED = {"leads", "messages", "events", "outbox", "audit_log", "enrollments"}
# The reports' roll-up of first stage times is as anonymous as the stage changes it sums,
# as are the stage entries (each a stage change's funnel stage and times), and the first
# enrolments' copy as the enrolments it copies (all kept); the campaign
# results' copy of each email and their queue keep the lead as the message does; the first
# human touch is the earliest time of the events, which keep their types and times.
_KEPT_AS_IS = {
    "enrollment_history",
    "lead_first_touches",
    "lead_stage_firsts",
    "stage_entries",
    "campaign_entries",
    "rolled_up_emails",
    "email_rollup_queue",
    "rolled_up_leads",
}
# Event properties that are raw tracking data (purged after the retention period).
RAW_TRACKING_KEYS = ("ip", "user_agent", "ua", "remote_addr")

Eraser = Callable[[Session, Lead, datetime], None]
Purger = Callable[[Session, datetime], int]
# Extension points: other parts register what to do with their own tables.
ERASERS: dict[str, Eraser] = {}
PURGERS: dict[str, Purger] = {}
# Raw hits deleted per statement by the retention purge.
_PURGE_BATCH = 1000


def _erase_stage_reasons(session: Session, lead: Lead, now: datetime) -> None:
    session.execute(
        update(StageChange).where(StageChange.lead_id == lead.id).values(reason="erased")
    )


ERASERS["stage_changes"] = _erase_stage_reasons


def _erase_handoffs(session: Session, lead: Lead, now: datetime) -> None:
    # Sales' verdicts are what the funnel, velocity and the feedback loop count: the rows
    # stay without anything about the person (nurture.handoff.erasure).
    anonymise_handoffs(session, lead.id)


ERASERS["handoffs"] = _erase_handoffs


def _erase_revenue_notes(session: Session, lead: Lead, now: datetime) -> None:
    # The amounts are the account's revenue and stay in the totals; a note written about
    # the sale may describe the person, so it goes.
    session.execute(update(RevenueEntry).where(RevenueEntry.lead_id == lead.id).values(note=None))


ERASERS["revenue_entries"] = _erase_revenue_notes


class UnknownLead(LookupError):
    """No lead has that address or id."""


# ---------------------------------------------------------------- export


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def _rows(session: Session, table: Table, column: str, ids: list[Any]) -> list[dict[str, Any]]:
    if not ids:
        return []
    result = session.execute(
        select(table).where(table.c[column].in_(ids)).order_by(*table.primary_key.columns)
    )
    return [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result]


def export_lead(session: Session, ref: str) -> dict[str, Any]:
    """Everything held about the lead ``ref`` (email or id) as a JSON-ready dict.

    Raises ``UnknownLead``. Includes the account the lead belongs to, and for every table
    with a ``lead_id`` column its rows, plus rows of tables that reference those rows.
    """
    lead = get_lead(session, ref)
    if lead is None or lead.erased_at is not None:
        raise UnknownLead(f"no lead {ref}")
    lead_table = Base.metadata.tables["leads"]
    [profile] = _rows(session, lead_table, "id", [lead.id])
    data: dict[str, Any] = {"lead": profile}
    if lead.account_id is not None:
        [data["account"]] = _rows(
            session, Base.metadata.tables["accounts"], "id", [lead.account_id]
        )
    first_level: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        if "lead_id" in table.c and table.name != "leads":
            first_level[table.name] = _rows(session, table, "lead_id", [lead.id])
    data.update(first_level)
    for table in Base.metadata.sorted_tables:
        if table.name in data or table.name == "leads":
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent in first_level and fk.column.name in fk.column.table.primary_key.columns:
                ids = [row[fk.column.name] for row in first_level[parent]]
                rows = _rows(session, table, fk.parent.name, ids)
                if rows:
                    data.setdefault(table.name, []).extend(rows)
    return data


def record_export(session: Session, lead_id: int, email: str, *, actor: str, now: datetime) -> None:
    """Audit that a person's data was handed out."""
    audit.record(
        session,
        action="lead.exported",
        lead_id=lead_id,
        email_hash=hash_for(session, email),
        detail={},
        actor=actor,
        now=now,
    )


# ---------------------------------------------------------------- erase


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did (counts only: the address is gone). ``imports``: the rows it
    removed from lead imports (uploaded files, rejected rows, previews)."""

    lead_id: int
    messages: int
    events: int
    deleted: dict[str, int]
    imports: ImportErasure


def erase_lead(
    session: Session, ref: str, *, now: datetime, actor: str, instance_path: Path
) -> ErasureReport:
    """Erase the person ``ref`` (email or id), keeping anonymous aggregates.

    ``instance_path`` is the instance folder, where uploaded lead files wait for their
    import. Raises ``UnknownLead`` for an unknown (or already erased) address.
    """
    lead = get_lead(session, ref)
    if lead is None or lead.erased_at is not None:
        raise UnknownLead(f"no lead {ref}")
    # Before anything is changed: this locks the imports that still have a file, so a batch
    # of a running import either commits before the erasure changes the person's data, or
    # waits for the erasure to commit and then refuses the address.
    imports = erase_from_imports(session, lead.email, instance_path=instance_path)
    # First, while the address is still known: its hash goes on the suppression list.
    suppress(session, lead, reason="erased", source="erasure", now=now, actor=actor)
    placeholder = f"erased-{lead.id}@erased.invalid"
    message_ids = list(session.scalars(select(Message.id).where(Message.lead_id == lead.id)))
    if message_ids:
        # The stored copies hold the full email: nothing of them is an aggregate.
        session.execute(delete(OutboxMessage).where(OutboxMessage.message_id.in_(message_ids)))
    messages = rows_affected(
        session.execute(
            update(Message)
            .where(Message.lead_id == lead.id)
            .values(to_address=placeholder, subject=None, smtp_reply=None, error=None)
        )
    )
    events = rows_affected(
        session.execute(
            update(Event)
            .where(Event.lead_id == lead.id)
            .values(properties={}, anonymous_id=None, machine_reasons=[])
        )
    )
    deleted: dict[str, int] = {}
    # Webhook deliveries carry the handoff's JSON (name, email, company): nothing of them
    # is an aggregate. The handoffs themselves are kept, anonymised (``ERASERS``).
    deleted["webhook_deliveries"] = rows_affected(
        session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.handoff_id.in_(select(Handoff.id).where(Handoff.lead_id == lead.id))
            )
        )
    )
    for table in reversed(Base.metadata.sorted_tables):
        if "lead_id" not in table.c or table.name in _HANDLED | _KEPT_AS_IS:
            continue
        eraser = ERASERS.get(table.name)
        if eraser is not None:
            eraser(session, lead, now)
        else:
            deleted[table.name] = rows_affected(
                session.execute(delete(table).where(table.c.lead_id == lead.id))
            )
    for column in ERASABLE_COLUMNS:
        setattr(lead, column, None)
    lead.email = placeholder
    lead.attributes = {}
    lead.topic_opt_outs = []
    lead.consent_status = "withdrawn"
    lead.erased_at = now
    lead.updated_at = now
    audit.record(
        session,
        action="lead.erased",
        lead_id=lead.id,
        email_hash=session.scalar(
            select(AuditLog.email_hash)
            .where(AuditLog.lead_id == lead.id, AuditLog.action == "suppression.added")
            .order_by(AuditLog.id.desc())
            .limit(1)
        ),
        detail={
            "messages": messages,
            "events": events,
            "deleted": deleted,
            "imports": imports.as_dict(),
        },
        actor=actor,
        now=now,
    )
    return ErasureReport(lead.id, messages, events, deleted, imports)


# ---------------------------------------------------------------- retention


def purge_expired(session: Session, settings: Settings, *, now: datetime) -> tuple[int, int]:
    """The retention purge (daily in the worker, ``nurture privacy purge`` by hand): raw
    tracking data older than ``tracking_retention``, then finished webhook deliveries older
    than ``webhook_retention``. Returns (tracking rows changed, deliveries deleted)."""

    changed = purge_tracking_data(session, now=now, retention=settings.tracking_retention)
    deleted = purge_deliveries(session, now=now, retention=settings.webhook_retention)
    return changed, deleted


def purge_tracking_data(session: Session, *, now: datetime, retention: timedelta | None) -> int:
    """Remove raw tracking data (IP addresses, user agents) older than ``retention``.

    Event properties lose their raw keys (the event itself stays, so reports keep their
    numbers); each registered ``PURGERS`` entry handles its own table. Returns how many
    rows were changed or deleted. ``None`` retention keeps everything.
    """
    if retention is None:
        return 0
    cutoff = now - retention
    changed = 0
    last_id = 0
    # The database picks the events that still hold a raw key. Nearly every event older than
    # the retention was cleaned by an earlier (daily) run; reading them all into Python would
    # make each run grow with the whole history, in a transaction that holds SQLite's write
    # lock and so stalls tracking capture (docs/benchmarks.md, "The worker's whole idle tick").
    holds_raw = or_(*(Event.properties[key].as_string().is_not(None) for key in RAW_TRACKING_KEYS))
    while True:
        batch = session.execute(
            select(Event.id, Event.properties)
            .where(Event.occurred_at < cutoff, Event.id > last_id, holds_raw)
            .order_by(Event.id)
            .limit(1000)
        ).all()
        if not batch:
            break
        last_id = batch[-1].id
        updates = [
            {
                "id": row.id,
                "properties": {
                    k: v for k, v in row.properties.items() if k not in RAW_TRACKING_KEYS
                },
            }
            for row in batch
            if row.properties and any(key in row.properties for key in RAW_TRACKING_KEYS)
        ]
        if updates:
            session.execute(update(Event), updates)
            changed += len(updates)
    changed += purge_processed_hits(session, cutoff)
    for purger in PURGERS.values():
        changed += purger(session, cutoff)
    return changed


def purge_processed_hits(session: Session, cutoff: datetime) -> int:
    """Delete the raw tracking hits (IP address, user agent, URL as they arrived) that were
    processed and arrived before ``cutoff``; their events keep what the reports count.

    Hits are walked oldest first over the processor's index (processed, id) and the walk
    stops at the first one inside the retention: ids follow arrival, so a daily run reads
    only what it deletes, however long the table. A hit an API call dated in the past is
    deleted once the hits that arrived before it are. Unprocessed hits stay for the
    processor. Returns how many hits were deleted.
    """
    deleted = 0
    while True:
        batch = session.execute(
            select(TrackingHit.id, TrackingHit.occurred_at)
            .where(TrackingHit.processed.is_(True))
            .order_by(TrackingHit.id)
            .limit(_PURGE_BATCH)
        ).all()
        expired = [row.id for row in takewhile(lambda row: row.occurred_at < cutoff, batch)]
        if expired:
            session.execute(delete(TrackingHit).where(TrackingHit.id.in_(expired)))
            deleted += len(expired)
        if len(expired) < _PURGE_BATCH:
            return deleted

"""What a person did with each email, kept on the message row as it happens.

The figures of the home page, the campaign list and a campaign's steps ask, of the emails
sent in a period, how many a person opened, clicked, unsubscribed from, how many bounced
and drew a complaint. Counting that from the event history reads every event of the period
(20 million events make it seconds); kept on the message, it is one read of the period's
messages. The columns are derived from the message's events and nothing else, so they are
recomputed (never incremented) whenever its email events change: a click re-flagged as a
scanner's later, a bounce report, an unsubscribe. Machine hits never count.

- ``opened_at``: the first human open or click (a person who clicked read the email);
- ``clicked_at``: the first human click;
- ``unsubscribed_at``, ``bounce_reported_at``, ``complained_at``: the first such event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, case, func, select, update
from sqlalchemy.orm import Session

from nurture.models import Event, Message
from nurture.models.message import ENGAGEMENT_COLUMNS
from nurture.platform.db import bulk_update, rows_affected, table_of

# Event types that change a message's engagement columns.
ENGAGEMENT_EVENTS = (
    "email.opened",
    "email.clicked",
    "email.unsubscribed",
    "email.bounced",
    "email.complained",
)
# One statement per this many messages (bind parameter limits, short lock times).
_CHUNK = 500


def _first(*types: str) -> Any:
    return func.min(case((Event.type.in_(types), Event.occurred_at)))


def _per_message() -> Select[Any]:
    """Each message's engagement columns from its events (grouped by message)."""
    return (
        select(
            Event.message_id,
            _first("email.opened", "email.clicked").label("opened_at"),
            _first("email.clicked").label("clicked_at"),
            _first("email.unsubscribed").label("unsubscribed_at"),
            _first("email.bounced").label("bounce_reported_at"),
            _first("email.complained").label("complained_at"),
        )
        .where(Event.type.in_(ENGAGEMENT_EVENTS), Event.is_machine.is_(False))
        .group_by(Event.message_id)
    )


def refresh_engagement(session: Session, message_ids: Iterable[int]) -> int:
    """Recompute the engagement columns of ``message_ids`` from their events; how many
    messages were written. Call it in the transaction that changed their events."""
    ids = sorted({int(item) for item in message_ids if item is not None})
    written = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = _per_message().where(Event.message_id.in_(chunk))
        found = {row.message_id: row for row in session.execute(query)}
        rows = [
            {
                "id": message_id,
                **{name: getattr(found.get(message_id), name, None) for name in ENGAGEMENT_COLUMNS},
            }
            for message_id in chunk
        ]
        bulk_update(session.connection(), table_of(Message), rows)
        written += len(rows)
    return written


def backfill_engagement(connection: Connection) -> int:
    """Fill every message that has email events, in one statement (UPDATE … FROM): for a
    database whose history was loaded in bulk, without the hit processor. Messages without
    such events keep their columns. How many messages were written."""
    found = _per_message().where(Event.message_id.is_not(None)).subquery()
    messages = table_of(Message)
    result = connection.execute(
        update(messages)
        .where(messages.c.id == found.c.message_id)
        .values({name: found.c[name] for name in ENGAGEMENT_COLUMNS})
    )
    return rows_affected(result)

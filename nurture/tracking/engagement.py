"""What a person did with each email, kept on the message row as it happens.

The figures of the home page, the campaign list and a campaign's steps ask, of the emails
sent in a period, how many a person opened, clicked, unsubscribed from, how many bounced
and drew a complaint. Counting that from the event history reads every event of the period
(20 million events make it seconds); kept on the message, it is one read of the period's
messages. The columns are derived from the message's events and nothing else. New human
events can only make a first moment earlier, so the hit processor moves them with what it
records (``note_engagement``, no event read back); anything else that changes a message's
events (a click re-flagged as a scanner's later, a bounce report, an unsubscribe)
recomputes them from its events (``refresh_engagement``). Machine hits never count as a
person's.

- ``opened_at``: the first human open or click (a person who clicked read the email);
- ``clicked_at``: the first human click;
- ``unsubscribed_at``, ``bounce_reported_at``, ``complained_at``: the first such event;
- ``machine_opened_at``, ``machine_clicked_at``: the first open / click flagged as a
  machine's (the campaign results count them apart);
- ``human_clicks``: how many human clicks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from nurture.models import Event, Lead, Message
from nurture.models.message import ENGAGEMENT_COLUMNS, HIT_COLUMNS
from nurture.platform.db import UTCDateTime, bulk_update, rows_affected, table_of

# Event types that change a message's engagement columns.
ENGAGEMENT_EVENTS = (
    "email.opened",
    "email.clicked",
    "email.unsubscribed",
    "email.bounced",
    "email.complained",
)
# Every column kept from the events.
_COLUMNS = (*ENGAGEMENT_COLUMNS, *HIT_COLUMNS)
# The moments a human event of each type can set.
_SETS = {
    "email.opened": ("opened_at",),
    "email.clicked": ("opened_at", "clicked_at"),
    "email.unsubscribed": ("unsubscribed_at",),
    "email.bounced": ("bounce_reported_at",),
    "email.complained": ("complained_at",),
}
# The moments a machine hit of each type can set.
_MACHINE_SETS = {
    "email.opened": ("machine_opened_at",),
    "email.clicked": ("machine_clicked_at",),
}
# One statement per this many messages (bind parameter limits, short lock times).
_CHUNK = 500


def _first(*types: str, machine: bool = False) -> Any:
    return func.min(
        case((and_(Event.type.in_(types), Event.is_machine.is_(machine)), Event.occurred_at))
    )


def _per_message() -> Select[Any]:
    """Each message's engagement columns from its events (grouped by message)."""
    human_click = and_(Event.type == "email.clicked", Event.is_machine.is_(False))
    return (
        select(
            Event.message_id,
            _first("email.opened", "email.clicked").label("opened_at"),
            _first("email.clicked").label("clicked_at"),
            _first("email.unsubscribed").label("unsubscribed_at"),
            _first("email.bounced").label("bounce_reported_at"),
            _first("email.complained").label("complained_at"),
            _first("email.opened", machine=True).label("machine_opened_at"),
            _first("email.clicked", machine=True).label("machine_clicked_at"),
            func.sum(case((human_click, 1), else_=0)).label("human_clicks"),
        )
        .where(Event.type.in_(ENGAGEMENT_EVENTS))
        .group_by(Event.message_id)
    )


def _empty(name: str) -> Any:
    return 0 if name == "human_clicks" else None


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
                **{name: getattr(found.get(message_id), name, _empty(name)) for name in _COLUMNS},
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
        .values({name: found.c[name] for name in _COLUMNS})
    )
    return rows_affected(result)


def note_engagement(session: Session, events: Iterable[Mapping[str, Any]]) -> int:
    """Move the engagement columns of the messages of newly recorded ``events`` (rows as
    inserted: ``message_id``, ``type``, ``occurred_at``, ``is_machine``) to an event's moment
    where it is earlier or the column is empty, and add the human clicks; how many messages
    were written.

    Exact while none of those messages' earlier events lost its human standing in the same
    transaction (then call ``refresh_engagement`` for them); it never reads events, so its
    cost does not grow with a message's history.
    """
    firsts: dict[int, dict[str, datetime]] = defaultdict(dict)
    clicks: dict[int, int] = defaultdict(int)
    for row in events:
        message_id, kind = row.get("message_id"), str(row.get("type"))
        sets = _MACHINE_SETS if row.get("is_machine") else _SETS
        if message_id is None or kind not in sets:
            continue
        if kind == "email.clicked" and not row.get("is_machine"):
            clicks[message_id] += 1
        at = row["occurred_at"]
        for column in sets[kind]:
            current = firsts[message_id].get(column)
            if current is None or at < current:
                firsts[message_id][column] = at
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for message_id, moments in sorted(firsts.items()):
        by_columns[tuple(sorted(moments))].append({"mid": message_id, **moments})
    messages = table_of(Message)
    connection = session.connection()
    for columns, rows in by_columns.items():
        earlier = {
            column: case(
                (
                    or_(
                        messages.c[column].is_(None),
                        messages.c[column] > bindparam(column, type_=UTCDateTime()),
                    ),
                    bindparam(column, type_=UTCDateTime()),
                ),
                else_=messages.c[column],
            )
            for column in columns
        }
        statement = update(messages).where(messages.c.id == bindparam("mid")).values(earlier)
        for start in range(0, len(rows), _CHUNK):
            connection.execute(statement, rows[start : start + _CHUNK])
    added = [{"mid": message_id, "n": count} for message_id, count in sorted(clicks.items())]
    counted = (
        update(messages)
        .where(messages.c.id == bindparam("mid"))
        .values(human_clicks=messages.c.human_clicks + bindparam("n"))
    )
    for start in range(0, len(added), _CHUNK):
        connection.execute(counted, added[start : start + _CHUNK])
    return len(firsts)


def record_activity(session: Session, events: list[dict[str, Any]]) -> None:
    """Move each lead's ``last_activity_at`` to its newest human event of the batch (the
    lead list sorts by it; machine hits are not activity)."""
    latest: dict[int, datetime] = {}
    for row in events:
        lead_id, when = row.get("lead_id"), row.get("occurred_at")
        if lead_id is None or when is None or row.get("is_machine"):
            continue
        if lead_id not in latest or when > latest[lead_id]:
            latest[lead_id] = when
    if not latest:
        return
    # One statement run for every lead (executemany), not an ORM UPDATE per lead (two thirds
    # of a 32-hit SQLite pass), as the pass holds the write lock the captures wait for
    # (docs/benchmarks.md, "Tracking capture on SQLite").
    session.connection().execute(
        _MOVE_ACTIVITY,
        [{"lead": lead_id, "when": when} for lead_id, when in sorted(latest.items())],
    )


_MOVE_ACTIVITY = (
    update(Lead)
    .where(Lead.id == bindparam("lead"), Lead.last_activity_at < bindparam("when"))
    .values(last_activity_at=bindparam("when"))
)

"""The accounts' rolled-up engagement: kept on each account row so lists can sort and page
accounts by score and by latest activity without reading every lead.

An account's score is its people's decayed scores aggregated (``aggregate``, the method of
``NURTURE_ACCOUNT_SCORE``), stored as (value, as_of) and decayed on read like a lead's.
Every score decays at the same rate, so the order of two accounts never changes with time;
``score_rank`` (log₂ of the score at a fixed reference time) is that order as a number an
index can hold. It is refreshed, in the transaction of the change, whenever people are
rescored or their data (and so possibly their account) changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.handoff.account_view import ACTIVITY_TYPES, aggregate
from nurture.models import Account, Event, Lead
from nurture.models.lead import decayed_score
from nurture.platform.db import among, bulk_update, table_of, utcnow
from nurture.platform.decay import DEFAULT_HALF_LIFE, decayed, score_rank

_CHUNK = 500


def account_score(value: float, as_of: datetime | None, now: datetime) -> float:
    """The rolled-up score read at ``now``."""
    return decayed(value, as_of, now)


def refresh_account_scores(
    session: Session, account_ids: Iterable[int], now: datetime, method: str
) -> int:
    """Recompute the stored score and latest activity of these accounts; returns how many."""
    ids = sorted({i for i in account_ids if i})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        scores: dict[int, list[float]] = defaultdict(list)
        # Only positive scores count (``aggregate``) and decay never changes a score's sign,
        # so only people with a positive score are read, as plain columns: an account's
        # newly imported people (score 0) cost nothing, however many the account has.
        people = session.execute(
            select(Lead.account_id, Lead.score_value, Lead.score_as_of, Lead.score_half_life).where(
                Lead.account_id.in_(chunk),
                Lead.erased_at.is_(None),
                Lead.score_value > 0,
            )
        )
        for account_id, value, as_of, half_life in people:
            assert account_id is not None  # selected by account
            scores[account_id].append(decayed_score(value, as_of, half_life, now))
        latest = dict(
            session.execute(
                select(Lead.account_id, func.max(Event.occurred_at))
                .join(Event, Event.lead_id == Lead.id)
                .where(
                    Lead.account_id.in_(chunk),
                    Event.is_machine.is_(False),
                    Event.type.in_(ACTIVITY_TYPES),
                )
                .group_by(Lead.account_id)
            ).all()
        )
        _store(session, chunk, scores, latest, now, method)
    return len(ids)


def _store(
    session: Session,
    chunk: list[int],
    scores: dict[int, list[float]],
    latest: Mapping[int | None, datetime],
    now: datetime,
    method: str,
) -> None:
    """Write the chunk's roll-ups as one bulk UPDATE (stamping ``updated_at`` as the ORM's
    flush of a changed account does), and expire those columns on the accounts loaded in
    the session. Loading every account of an import's batch as an object to set four
    columns, then flushing them, cost more than computing them."""
    stamp = utcnow()
    # What a reader sees of a zero roll-up is its value, rank and latest activity (a zero
    # score decays to zero whatever its ``score_as_of``): an account whose stored zero
    # roll-up is what it would be rewritten with is left alone. An import's batch touches
    # hundreds of accounts whose new people have no score, and rewriting each of their
    # rows (every index entry of it, on PostgreSQL) was most of the roll-up's cost.
    unchanged = {
        row.id
        for row in session.execute(
            select(Account.id, Account.last_activity_at).where(
                among(session, Account.id, chunk),
                Account.score_value == 0,
                Account.score_rank == 0,
            )
        )
        if not scores.get(row.id) and row.last_activity_at == latest.get(row.id)
    }
    # An id without an account row (deleted meanwhile) updates nothing.
    rows: list[dict[str, Any]] = []
    for account_id in chunk:
        if account_id in unchanged:
            continue
        value = aggregate(scores.get(account_id, []), method)
        rows.append(
            {
                "id": account_id,
                "score_value": value,
                "score_as_of": now,
                "score_rank": score_rank(value, now, DEFAULT_HALF_LIFE),
                "last_activity_at": latest.get(account_id),
                "updated_at": stamp,
            }
        )
    bulk_update(session.connection(), table_of(Account), rows)
    # The accounts the session holds read the new values from the database if asked again.
    identity = session.identity_map
    written = list(rows[0].keys() - {"id"}) if rows else []
    for row in rows:
        account = identity.get(Session.identity_key(Account, row["id"]))
        if account is not None:
            session.expire(account, written)


def refresh_all_account_scores(
    session: Session, now: datetime, method: str, *, after: int = 0, limit: int = 5000
) -> tuple[int, int | None]:
    """Refresh up to ``limit`` accounts with an id above ``after``; returns how many and the
    last id (None when there are no more). ``nurture accounts refresh-scores`` calls it once
    per transaction until it is done."""
    ids = list(
        session.scalars(
            select(Account.id).where(Account.id > after).order_by(Account.id).limit(limit)
        )
    )
    if not ids:
        return 0, None
    refresh_account_scores(session, ids, now, method)
    return len(ids), ids[-1]

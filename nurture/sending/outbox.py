"""The local outbox: where mail goes when no SMTP server is configured.

A fresh install must be able to run a campaign end to end without an SMTP account, and a
developer wants to read what would have been sent. So the default transport stores each
message's exact bytes as an ``OutboxMessage`` row; ``nurture outbox`` (and later the web UI)
lists, shows and opens them with the query functions below.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from email import policy
from email.parser import BytesHeaderParser

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, defer, sessionmaker

from nurture.models import OutboxMessage
from nurture.platform.db import rows_affected, transaction, utcnow
from nurture.sending.delivery import DeliveryResult, Outgoing

log = logging.getLogger(__name__)

STORED_REPLY = "stored in local outbox"
# Column sizes of OutboxMessage; PostgreSQL refuses longer values rather than cutting them.
_MAX_ADDRESS = 320
_MAX_SUBJECT = 500


class OutboxTransport:
    """A transport that stores messages in the database instead of sending them.

    Each ``send_many`` batch is one transaction: either every message of the batch is
    stored or none is (and each gets a ``temporary`` result saying why). Call it outside
    any open write transaction: on SQLite a second writer would wait for the first.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def __repr__(self) -> str:
        return "<OutboxTransport>"

    def send(self, item: Outgoing) -> DeliveryResult:
        """Store one message."""
        return self.send_many([item])[0]

    def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Store a batch in one transaction; every item gets the same outcome."""
        if not items:
            return []
        now = utcnow()
        rows = [
            OutboxMessage(
                message_id=item.message_pk,
                to_address=item.to[:_MAX_ADDRESS],
                subject=_subject_of(item),
                raw=item.data,
                stored_at=now,
            )
            for item in items
        ]
        try:
            with transaction(self._sessions) as session:
                session.add_all(rows)
        except SQLAlchemyError as exc:
            # The database is the outbox's "server": if it refuses, the message was not
            # delivered anywhere and a later attempt may well succeed.
            log.warning("could not store %d message(s) in the outbox: %s", len(items), exc)
            failure = DeliveryResult.temporary_failure(
                f"could not store in local outbox: {type(exc).__name__}: {_first_line(exc)}"
            )
            return [failure] * len(items)
        return [DeliveryResult("sent", None, STORED_REPLY) for _ in items]

    def close(self) -> None:
        """Nothing to release: sessions are opened and closed per batch."""


def _subject_of(item: Outgoing) -> str | None:
    subject = item.subject
    if subject is None:
        # Only the header block is parsed; the outbox is the slow path anyway.
        headers = BytesHeaderParser(policy=policy.default).parsebytes(item.data)
        subject = headers["subject"]
        subject = str(subject) if subject is not None else None
    return subject[:_MAX_SUBJECT] if subject is not None else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def list_outbox(
    session: Session, *, to: str | None = None, limit: int = 50, offset: int = 0
) -> list[OutboxMessage]:
    """Stored messages, newest first, optionally only those to one address (any case).

    The ``raw`` bytes are not loaded (a page of 14 KB messages adds up); read them with
    :func:`get_outbox_message`.
    """
    query = select(OutboxMessage).options(defer(OutboxMessage.raw))
    if to:
        query = query.where(func.lower(OutboxMessage.to_address) == to.strip().lower())
    query = query.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def count_outbox(session: Session, *, to: str | None = None) -> int:
    """How many messages the outbox holds (to one address, when given)."""
    query = select(func.count()).select_from(OutboxMessage)
    if to:
        query = query.where(func.lower(OutboxMessage.to_address) == to.strip().lower())
    return session.scalar(query) or 0


def get_outbox_message(session: Session, id: int) -> OutboxMessage | None:
    """One stored message with its bytes, or None."""
    return session.get(OutboxMessage, id)


def clear_outbox(session: Session) -> int:
    """Delete every stored message; returns how many there were. The caller commits."""
    return rows_affected(session.execute(delete(OutboxMessage)))

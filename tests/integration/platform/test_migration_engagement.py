"""Upgrading a database with history: migration 9610 fills each message's engagement
columns from the events already recorded, so the figures do not start from zero."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, text, update
from sqlalchemy.engine import make_url

from nurture.models import Event, Lead, Message
from nurture.platform import migrate
from nurture.platform.db import make_engine, table_of
from nurture.tracking import backfill_engagement
from tests.conftest import BACKEND, POSTGRES_URL

SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HITS = text(
    "SELECT id, machine_opened_at, machine_clicked_at, human_clicks FROM messages ORDER BY id"
)
SELECT = text(
    "SELECT id, opened_at, clicked_at, unsubscribed_at, bounce_reported_at, complained_at"
    " FROM messages ORDER BY id"
)


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    """A database of its own, with no schema (the shared test database is already at head)."""
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_upgrade"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _message(conn, number):
    # Plain SQL: the model's insert would name columns later migrations add.
    conn.execute(
        text(
            "INSERT INTO messages (id, lead_id, kind, template, to_address, message_id, token,"
            " status, attempts, queued_at, sent_at) VALUES (:id, 1, 'campaign', 'welcome',"
            " 'ada@acme.example', :mid, :token, 'sent', 0, :at, :at)"
        ),
        {
            "id": number,
            "mid": f"m{number}@brightpath.example",
            "token": f"t{number}",
            "at": SENT.replace(tzinfo=None),
        },
    )


def _event(conn, message_id, kind, minutes, machine=False):
    at = SENT + timedelta(minutes=minutes)
    conn.execute(
        insert(table_of(Event)).values(
            lead_id=1,
            type=kind,
            message_id=message_id,
            occurred_at=at,
            recorded_at=at,
            is_machine=machine,
            machine_reasons=[],
            properties={},
        )
    )


def _history(conn, events) -> None:  # type: ignore[no-untyped-def]
    """Ada and three emails sent to her, with ``events`` (message, type, minutes, machine)."""
    conn.execute(
        insert(table_of(Lead)).values(
            id=1, email="ada@acme.example", created_at=SENT, updated_at=SENT
        )
    )
    for number in (1, 2, 3):
        _message(conn, number)
    for message_id, kind, minutes, machine in events:
        _event(conn, message_id, kind, minutes, machine=machine)


def _at(minutes: int) -> datetime:
    return SENT + timedelta(minutes=minutes)


def _utc(value):  # type: ignore[no-untyped-def]
    # Stored without a zone (UTC); SQLite hands it back as text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value is not None else None


def test_the_upgrade_fills_what_people_did_with_each_email_from_its_events(empty_database):
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, "9600")
        with engine.begin() as conn:
            _history(
                conn,
                [
                    (1, "email.opened", 5, True),  # a privacy proxy
                    (1, "email.clicked", 30, False),
                    (1, "email.opened", 40, False),
                    (1, "email.unsubscribed", 50, False),
                    (2, "email.bounced", 1, False),
                    (2, "email.complained", 90, False),
                ],
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(SELECT).all()
        # A history loaded in bulk later is filled the same way by the engine's own pass.
        with engine.begin() as conn:
            conn.execute(update(table_of(Message)).values(opened_at=None, complained_at=None))
            assert backfill_engagement(conn) == 2
            assert conn.execute(SELECT).all() == rows
    finally:
        engine.dispose()

    found = [tuple(_utc(value) for value in row[1:]) for row in rows]
    assert found == [
        (_at(30), _at(30), _at(50), None, None),  # the click is the first open
        (None, None, None, _at(1), _at(90)),
        (None, None, None, None, None),
    ]


def test_the_upgrade_fills_the_machine_hits_and_human_clicks_of_each_email(empty_database):
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, "9660")
        with engine.begin() as conn:
            _history(
                conn,
                [
                    (1, "email.opened", 5, True),  # a privacy proxy
                    (1, "email.opened", 2, True),
                    (1, "email.clicked", 3, True),  # a link scanner
                    (1, "email.clicked", 30, False),
                    (1, "email.clicked", 35, False),
                    (2, "email.clicked", 8, False),
                    (2, "email.bounced", 1, False),
                ],
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(HITS).all()
        with engine.begin() as conn:
            conn.execute(
                update(table_of(Message)).values(
                    machine_opened_at=None, machine_clicked_at=None, human_clicks=0
                )
            )
            assert backfill_engagement(conn) == 2
            assert conn.execute(HITS).all() == rows
    finally:
        engine.dispose()

    found = [(_utc(row[1]), _utc(row[2]), row[3]) for row in rows]
    assert found == [(_at(2), _at(3), 2), (None, None, 1), (None, None, 0)]

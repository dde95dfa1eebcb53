"""A message's engagement columns, moved as events are recorded (``note_engagement``),
agree with a recomputation from its events (``refresh_engagement``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from nurture.models import Event, Message
from nurture.platform.db import table_of, transaction
from nurture.tracking import note_engagement, refresh_engagement
from tests.integration.engine_support import T0
from tests.integration.tracking_support import send_message

COLUMNS = (
    "opened_at",
    "clicked_at",
    "unsubscribed_at",
    "bounce_reported_at",
    "complained_at",
    "machine_opened_at",
    "machine_clicked_at",
    "human_clicks",
)


def _columns(runtime, message_id):
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        return tuple(getattr(message, name) for name in COLUMNS)


def _record(runtime, message, rows):
    """Insert ``rows`` as the hit processor does, and move the columns with them."""
    events = [
        {
            "lead_id": message.lead_id,
            "message_id": message.message_id,
            "type": kind,
            "occurred_at": T0 + timedelta(minutes=minutes),
            "recorded_at": T0,
            "is_machine": machine,
            "machine_reasons": ["prefetch"] if machine else [],
            "properties": {},
        }
        for kind, minutes, machine in rows
    ]
    with transaction(runtime.sessions) as session:
        session.execute(insert(table_of(Event)), events)
        note_engagement(session, events)


def test_recorded_events_move_each_first_moment_only_earlier(runtime):
    message = send_message(runtime)
    _record(runtime, message, [("email.opened", 10, False), ("email.opened", 1, True)])
    assert _columns(runtime, message.message_id) == (
        T0 + timedelta(minutes=10), None, None, None, None, T0 + timedelta(minutes=1), None, 0,
    )  # fmt: skip
    # An earlier open recorded later (a slow proxy), a click, a machine click before both.
    _record(
        runtime,
        message,
        [("email.opened", 5, False), ("email.clicked", 20, False), ("email.clicked", 2, True)],
    )
    _record(
        runtime,
        message,
        [
            ("email.unsubscribed", 30, False),
            ("email.opened", 40, False),
            ("email.clicked", 45, False),
        ],
    )
    moved = _columns(runtime, message.message_id)
    assert moved == (
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=20),
        T0 + timedelta(minutes=30),
        None,
        None,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=2),
        2,
    )
    with transaction(runtime.sessions) as session:
        refresh_engagement(session, [message.message_id])
    assert _columns(runtime, message.message_id) == moved


def test_a_click_flagged_as_a_scanners_later_moves_to_the_machine_figures(runtime):
    message = send_message(runtime)
    _record(runtime, message, [("email.clicked", 3, False), ("email.clicked", 9, False)])
    assert _columns(runtime, message.message_id)[-1] == 2
    with transaction(runtime.sessions) as session:
        first = session.scalars(
            select(Event).where(Event.message_id == message.message_id).order_by(Event.occurred_at)
        ).first()
        assert first is not None
        first.is_machine = True
        session.flush()
        refresh_engagement(session, [message.message_id])
    assert _columns(runtime, message.message_id) == (
        T0 + timedelta(minutes=9), T0 + timedelta(minutes=9), None, None, None,
        None, T0 + timedelta(minutes=3), 1,
    )  # fmt: skip

"""nurture.platform.db.bulk_insert / bulk_update: one statement per batch (unnest on PostgreSQL),
with the same results as row-by-row writes: types, JSON, UTC datetimes and defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from nurture.models import Event, Lead
from nurture.platform.db import bulk_insert, bulk_update, transaction

T = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_bulk_insert_then_update_round_trips_every_type(runtime):
    with transaction(runtime.sessions) as session:
        lead = Lead(email="bulk@acme.example", consent_status="granted")
        session.add(lead)
        session.flush()
        lead_id = lead.id
        rows = [
            {
                "lead_id": lead_id,
                "type": "page.viewed",
                "occurred_at": T,
                "recorded_at": T,
                "properties": {"url": f"https://acme.example/{i}", "n": i, "ok": True},
            }
            for i in range(3)
        ]
        bulk_insert(session.connection(), Event.__table__, rows)
    with runtime.sessions() as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
    assert [e.properties["url"] for e in events] == [f"https://acme.example/{i}" for i in range(3)]
    assert all(e.occurred_at == T and e.lead_id == lead_id for e in events)
    # Python-side defaults were applied for the columns the rows left out.
    assert all(e.is_machine is False and e.machine_reasons == [] for e in events)

    with transaction(runtime.sessions) as session:
        bulk_update(
            session.connection(),
            Event.__table__,
            [
                {"id": events[0].id, "is_machine": True, "machine_reasons": ["proxy"]},
                {"id": events[2].id, "is_machine": True, "machine_reasons": ["scanner", "fast"]},
            ],
        )
    with runtime.sessions() as session:
        updated = session.scalars(select(Event).order_by(Event.id)).all()
    assert [(e.is_machine, e.machine_reasons) for e in updated] == [
        (True, ["proxy"]),
        (False, []),
        (True, ["scanner", "fast"]),
    ]
    assert updated[1].properties == {"url": "https://acme.example/1", "n": 1, "ok": True}


def test_empty_batches_do_nothing(runtime):
    with transaction(runtime.sessions) as session:
        bulk_insert(session.connection(), Event.__table__, [])
        bulk_update(session.connection(), Event.__table__, [])
    with runtime.sessions() as session:
        assert session.scalars(select(Event)).all() == []

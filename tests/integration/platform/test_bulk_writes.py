"""nurture.platform.db.bulk_insert / bulk_update: one statement per batch (unnest on PostgreSQL),
with the same results as row-by-row writes: types, JSON, UTC datetimes and defaults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from nurture.models import Event, Lead
from nurture.platform import pg_arrays
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


def test_awkward_values_round_trip_through_the_array_parameters(runtime):
    # Texts an array literal would have to quote or escape, a column of NULLs only, NULLs
    # among values, an empty text, floats and timestamps.
    awkward = ['a "quoted", {braced} \\ back\\slash', "", "NULL", "zażółć 漢字 🚀", None]
    with transaction(runtime.sessions) as session:
        rows = [
            {
                "email": f"awkward{i}@acme.example",
                "first_name": name,
                "title": None,
                "score_value": i / 3,
                "score_as_of": T if i % 2 else None,
                "consent_status": "granted",
            }
            for i, name in enumerate(awkward)
        ]
        bulk_insert(session.connection(), Lead.__table__, rows)
    with runtime.sessions() as session:
        leads = session.scalars(
            select(Lead).where(Lead.email.like("awkward%")).order_by(Lead.email)
        ).all()
        ids = [lead.id for lead in leads]
    assert [lead.first_name for lead in leads] == awkward
    assert all(lead.title is None for lead in leads)
    assert [lead.score_value for lead in leads] == [i / 3 for i in range(5)]
    assert [lead.score_as_of for lead in leads] == [None, T, None, T, None]

    with transaction(runtime.sessions) as session:
        bulk_update(
            session.connection(),
            Lead.__table__,
            [{"id": lead_id, "title": awkward[-1 - i]} for i, lead_id in enumerate(ids)],
        )
    with runtime.sessions() as session:
        titles = session.scalars(select(Lead.title).where(Lead.id.in_(ids)).order_by(Lead.email))
        assert list(titles) == awkward[::-1]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql_type", "values"),
    [
        ("INTEGER", [0, 1, -1, 2**31 - 1, -(2**31)]),
        ("INTEGER", [None, 5, None]),
        ("BIGINT", [2**63 - 1, -(2**63), 0, None]),
        ("SMALLINT", [1, -2, None]),
        ("BOOLEAN", [True, False, None]),
        (
            "TIMESTAMP WITHOUT TIME ZONE",
            [datetime(2026, 11, 24, 9, 30, 1, 123456), datetime(1999, 12, 31, 23, 59), None],
        ),
        ("TEXT", ['a "quoted", {braced} \\ back\\slash', "", "NULL", "zażółć 漢字 🚀", None]),
        ("VARCHAR(20)", ["x", None, "ünï"]),
        ("INTEGER", []),
    ],
)
def test_arrays_built_in_binary_read_back_as_psycopg_sends_them(runtime, sql_type, values):
    encode = pg_arrays.array_encoder(sql_type)
    assert encode is not None
    with runtime.engine.connect() as connection:
        ours = (
            connection.exec_driver_sql(
                f"SELECT u.v FROM unnest(%b::{sql_type}[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
                (encode(values),),
            )
            .scalars()
            .all()
        )
        theirs = (
            connection.exec_driver_sql(
                f"SELECT u.v FROM unnest(%b::{sql_type}[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
                (values,),
            )
            .scalars()
            .all()
        )
    assert ours == theirs == values

"""nurture.platform.db.one_of_known: a few fixed values written into the statement, so a
plan made once for any parameters still knows them (the peers and engaged contacts of
readiness), with the rows of a plain IN."""

from __future__ import annotations

from sqlalchemy import event, select

from nurture.models import Lead
from nurture.platform.db import one_of_known, transaction


def test_the_values_are_in_the_statement_and_select_the_same_rows(runtime):
    with transaction(runtime.sessions) as session:
        for i, temperature in enumerate(["cold", "warm", "hot", "cold", "warm"]):
            session.add(Lead(email=f"t{i}@acme.example", temperature=temperature))
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    engine = runtime.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        with runtime.sessions() as session:
            known = session.scalars(
                select(Lead.email)
                .where(one_of_known(Lead.temperature, {"warm", "hot"}))
                .order_by(Lead.id)
            ).all()
            plain = session.scalars(
                select(Lead.email).where(Lead.temperature.in_(["warm", "hot"])).order_by(Lead.id)
            ).all()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert known == plain == ["t1@acme.example", "t2@acme.example", "t4@acme.example"]
    statement, parameters = next((s, p) for s, p in sent if s.lstrip().startswith("SELECT"))
    assert "IN ('hot', 'warm')" in statement
    assert not parameters

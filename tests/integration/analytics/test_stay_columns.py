"""The stay each stage change ends (``stage_changes.stay_began_at``, ``stay_stage``) follows
every writer (``change_stage``, rows inserted one by one or many in one statement, changes
recorded out of order or at the same instant), equals the pure definition
(``durations.stays``) and a full recomputation, survives a change's deletion or move, is
filled by its migration from history already recorded, and is checked and rebuilt by
``nurture db rebuild-rollups``; velocity's time in stage is the pure definition's over
every lead's whole history."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from nurture.analytics import parse_filter, stay_columns, velocity_report
from nurture.analytics.durations import STAY_STAGES, Change, spread, stays
from nurture.analytics.filters import VELOCITY_GROUP_BY
from nurture.leads.lifecycle import IMPORT_ACTOR, STAGES, change_stage
from nurture.models import Lead, StageChange
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.analytics.rollup_support import change_row, rows
from tests.integration.engine_support import add_lead

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
TODAY = date(2026, 6, 1)


def mixed_history(runtime: Runtime, seed: int = 7) -> list[int]:
    """Twelve leads whose changes arrive by every path in a shuffled order: through
    ``change_stage`` (an import's override, any stage), one ORM row at a time, and several
    rows in one INSERT; times drawn from a few days, so many changes tie at one instant and
    most arrive before a change already recorded later. Stages repeat (recycled leads
    qualify again), and ``from_stage`` need not chain with the change before."""
    rng = random.Random(seed)
    leads = [add_lead(runtime, f"m{n}@mixed.example", created_at=T0) for n in range(12)]
    moments = [T0 + timedelta(days=d, hours=h) for d in range(6) for h in (0, 12)]
    planned = [(lead, rng.choice(STAGES), rng.choice(moments)) for lead in leads for _ in range(6)]
    rng.shuffle(planned)
    while planned:
        size = rng.randint(1, 5)
        batch, planned = planned[:size], planned[size:]
        how = rng.choice(("use case", "orm", "statement"))
        with transaction(runtime.sessions) as session:
            if how == "statement":
                session.execute(
                    insert(StageChange).values(
                        [change_row(*row, from_stage="lead") for row in batch]
                    )
                )
                continue
            for lead_id, stage, at in batch:
                lead = session.get(Lead, lead_id)
                assert lead is not None
                if how == "orm" or lead.stage == stage:
                    session.add(StageChange(**change_row(lead_id, stage, at, lead.stage)))
                    session.flush()
                else:
                    change_stage(
                        session, lead, stage, reason="CRM", actor=IMPORT_ACTOR, now=at,
                        override=True,
                    )  # fmt: skip
    return leads


def histories(runtime: Runtime) -> dict[int, list[tuple[int, Change]]]:
    """Each lead's changes (id, change) in the order ``durations.stays`` reads them."""
    found: dict[int, list[tuple[int, Change]]] = defaultdict(list)
    with runtime.sessions() as session:
        statement = select(
            StageChange.lead_id, StageChange.id, StageChange.from_stage,
            StageChange.to_stage, StageChange.at,
        ).order_by(StageChange.lead_id, StageChange.at, StageChange.id)  # fmt: skip
        for lead_id, change_id, from_stage, to_stage, at in session.execute(statement):
            found[lead_id].append((change_id, Change(from_stage, to_stage, at)))
    return found


def defined_stays(runtime: Runtime) -> dict[int, tuple[datetime | None, str | None]]:
    """Each change's stay by the pure definition: the stay ``durations.stays`` ends at it
    (zero-length ones included, with the previous change's time and stage)."""
    found: dict[int, tuple[datetime | None, str | None]] = {}
    for history in histories(runtime).values():
        previous: Change | None = None
        for change_id, change in history:
            if previous is None:
                found[change_id] = (None, None)
            else:
                found[change_id] = (previous.at, previous.to_stage)
            previous = change
    return found


def stored(runtime: Runtime) -> dict[int, tuple[Any, Any]]:
    return {row[0]: row[1:] for row in rows(runtime, stay_columns.stored_stays())}


@pytest.fixture
def mixed(runtime) -> list[int]:  # type: ignore[no-untyped-def]
    return mixed_history(runtime)


def test_every_writer_keeps_each_changes_stay_as_defined(runtime, mixed):
    found = stored(runtime)
    assert found == defined_stays(runtime)
    assert len(found) == 72
    assert sum(1 for began, _ in found.values() if began is None) == len(mixed)
    # The history has what makes the order matter: changes at one instant (ordered by id)
    # and changes recorded after a later one of their lead.
    pairs = [
        (before, after)
        for history in histories(runtime).values()
        for before, after in itertools.pairwise(history)
    ]
    assert any(before[1].at == after[1].at for before, after in pairs)
    assert any(before[0] > after[0] for before, after in pairs)


def test_the_stored_stays_equal_a_full_recomputation(runtime, mixed):
    assert rows(runtime, stay_columns.stored_stays()) == rows(
        runtime, stay_columns.recomputed_stays()
    )
    with runtime.sessions() as session:
        assert stay_columns.count_differences(session) == 0


def test_an_orm_change_reads_back_the_stay_the_database_wrote(runtime):
    lead = add_lead(runtime, "orm@example.com", created_at=T0)
    with transaction(runtime.sessions) as session:
        session.add(StageChange(**change_row(lead, "mql", T0 + timedelta(days=2))))
        session.flush()
        earlier = StageChange(**change_row(lead, "lead", T0 + timedelta(days=1)))
        session.add(earlier)
        session.flush()
        assert (earlier.stay_began_at, earlier.stay_stage) == (None, None)
        later = StageChange(**change_row(lead, "sal", T0 + timedelta(days=3)))
        session.add(later)
        session.flush()
        assert (later.stay_began_at, later.stay_stage) == (T0 + timedelta(days=2), "mql")
    # The change recorded out of order became the predecessor of the one after it.
    assert sorted(stored(runtime).values(), key=lambda v: (v[0] is not None, v[0])) == [
        (None, None),
        (T0 + timedelta(days=1), "lead"),
        (T0 + timedelta(days=2), "mql"),
    ]


def test_deleting_or_moving_changes_keeps_the_stays_right(runtime, mixed):
    with runtime.sessions() as session:
        ids = list(session.scalars(select(StageChange.id).order_by(StageChange.id)))
    with transaction(runtime.sessions) as session:
        # Single changes and runs of a lead's consecutive changes, in one statement.
        session.execute(delete(StageChange).where(StageChange.id.in_(ids[::5] + ids[1:4])))
        session.execute(
            update(StageChange)
            .where(StageChange.id.in_(ids[7::9]))
            .values(at=T0 + timedelta(days=2, hours=12), to_stage="sql")
        )
        session.execute(
            update(StageChange).where(StageChange.id == ids[11]).values(lead_id=mixed[0])
        )
        # A lead's deletion takes its changes with it.
        session.execute(delete(Lead).where(Lead.id == mixed[1]))
    assert stored(runtime) == defined_stays(runtime)
    with runtime.sessions() as session:
        assert stay_columns.count_differences(session) == 0


@pytest.mark.parametrize("in_sql", [False, pytest.param(True, marks=pytest.mark.postgres)])
@pytest.mark.parametrize("by", [None, "month", "source"])
def test_time_in_stage_is_the_definitions_over_every_whole_history(runtime, mixed, in_sql, by):
    report = parse_filter(
        start="2026-01-02", end="2026-01-06", group_by=by, today=TODAY,
        groupings=VELOCITY_GROUP_BY,
    )  # fmt: skip
    expected: dict[str, list[float]] = defaultdict(list)
    for history in histories(runtime).values():
        for stay in stays(change for _, change in history):
            ended = stay.left_at is not None and report.start_at <= stay.left_at < report.end_at
            if stay.stage in STAY_STAGES and ended and stay.seconds:
                expected[stay.stage].append(stay.seconds)
    with runtime.sessions() as session:
        found = velocity_report(session, report, percentiles_in_sql=in_sql)
    for stage in STAY_STAGES:
        counted = sum(row.measures[stage].count for row in found.rows)
        assert counted == len(expected[stage])
        if by is None:
            assert found.rows[0].measures[stage] == spread(expected[stage])
    assert sum(len(values) for values in expected.values()) > 5


def test_the_migration_fills_the_stays_from_history_already_recorded(runtime, mixed, migrate_again):
    before = stored(runtime)
    migrate_again("9820")
    assert stored(runtime) == before
    # The triggers came back with the columns: a new change ends the lead's latest stay.
    with transaction(runtime.sessions) as session:
        session.add(StageChange(**change_row(mixed[0], "mql", T0 + timedelta(days=30))))
    assert stored(runtime) == defined_stays(runtime)


def test_the_rebuild_command_puts_damaged_stays_right(runtime, mixed, db_command):
    right = stored(runtime)
    with runtime.sessions() as session:
        ids = list(session.scalars(select(StageChange.id).order_by(StageChange.id)))
    with transaction(runtime.sessions) as session:
        session.execute(
            update(StageChange).where(StageChange.id.in_(ids[:3])).values(stay_stage="mql")
        )
        session.execute(
            update(StageChange).where(StageChange.id == ids[5]).values(stay_began_at=None)
        )
    damaged = sum(1 for i in ids[:3] if right[i][1] != "mql") + (right[ids[5]][0] is not None)
    assert damaged >= 2
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    assert f"stage_changes: {damaged} stays differ" in checked.output

    rebuilt = db_command("rebuild-rollups")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"stage_changes: 72 stays recomputed from the stage history ({damaged} differed" in (
        rebuilt.output
    )
    assert stored(runtime) == right
    assert "stage_changes: 0 stays differ" in db_command("rebuild-rollups", "--check").output

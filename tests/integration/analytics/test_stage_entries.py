"""Each entry of a lead into a funnel stage (``stage_entries``) follows every writer of the
stage changes (``change_stage``, rows inserted one by one or many in one statement, changes
recorded out of order or at one instant, deleted, moved to another time, stage or lead, a
lead deleted), equals the pure definition (``entered_stages``, the previous entry of the
same lead and stage) and a full recomputation, is filled by its migration from history
already recorded, and is checked and rebuilt by ``nurture db rebuild-rollups``; the
funnel's period view counts a lead once per stage (per month, per campaign) from it."""

from __future__ import annotations

import importlib.util
import random
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from nurture.analytics import parse_filter, stage_entries
from nurture.analytics.definitions import FUNNEL_STAGES, entered_stages
from nurture.analytics.funnel import funnel_report
from nurture.leads.lifecycle import STAGES
from nurture.models import Lead, StageChange, StageEntry
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from tests.integration.analytics.rollup_support import change_row, rows
from tests.integration.analytics.test_stay_columns import T0, histories, mixed_history
from tests.integration.engine_support import FIXTURES, add_lead, enrol, sync_fixture_campaigns

Entry = tuple[int, str, int, datetime, datetime | None]


def defined_entries(runtime: Runtime) -> set[Entry]:
    """Every entry by the pure definition: each change's ``entered_stages``, after the
    lead's entry into the same stage just before it in (at, id) order."""
    found: set[Entry] = set()
    for lead_id, history in histories(runtime).items():
        last: dict[str, datetime] = {}
        for change_id, change in history:
            for stage in entered_stages(change.from_stage, change.to_stage):
                found.add((change_id, stage, lead_id, change.at, last.get(stage)))
                last[stage] = change.at
    return found


def stored(runtime: Runtime) -> set[Any]:
    return rows(runtime, stage_entries.stored_entries())


def _shuffle_history(runtime: Runtime, leads: list[int], seed: int) -> None:
    """Random deletions, moves (time, stages, lead), late inserts and a lead's deletion,
    each in a statement of its own or several in one."""
    rng = random.Random(seed)
    moments = [T0 + timedelta(days=d, hours=h) for d in range(6) for h in (0, 12)]
    with runtime.sessions() as session:
        ids = list(session.scalars(select(StageChange.id).order_by(StageChange.id)))
    rng.shuffle(ids)
    with transaction(runtime.sessions) as session:
        session.execute(delete(StageChange).where(StageChange.id.in_(ids[:6])))
        for change_id in ids[6:12]:
            values = rng.choice(
                (
                    {"at": rng.choice(moments)},
                    {"to_stage": rng.choice(STAGES)},
                    {"from_stage": rng.choice((None, *STAGES))},
                    {"lead_id": rng.choice(leads)},
                )
            )
            session.execute(update(StageChange).where(StageChange.id == change_id).values(values))
        session.execute(
            update(StageChange)
            .where(StageChange.id.in_(ids[12:16]))
            .values(at=rng.choice(moments), from_stage="recycled")
        )
        late = [
            change_row(rng.choice(leads), rng.choice(STAGES), rng.choice(moments), "lead")
            for _ in range(8)
        ]
        session.execute(insert(StageChange).values(late))
        session.execute(delete(Lead).where(Lead.id == leads[-1]))


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_every_writer_keeps_the_entries_equal_to_the_definition(runtime, seed):
    leads = mixed_history(runtime, seed)
    found = stored(runtime)
    assert found == defined_entries(runtime)
    # Repeats of a stage by one lead (a previous entry) and firsts (none) are both there.
    assert any(row[4] is None for row in found)
    assert any(row[4] is not None for row in found)
    with runtime.sessions() as session:
        assert stage_entries.count_differences(session) == 0

    _shuffle_history(runtime, leads, seed)
    assert stored(runtime) == defined_entries(runtime)
    assert stored(runtime) == rows(runtime, stage_entries.recomputed_entries())
    with runtime.sessions() as session:
        assert stage_entries.count_differences(session) == 0
        assert not session.scalar(
            select(StageEntry.change_id).where(StageEntry.lead_id == leads[-1])
        )


def test_the_migration_fills_the_entries_from_history_already_recorded(runtime, migrate_again):
    mixed_history(runtime)
    before = stored(runtime)
    migrate_again("9870")
    assert stored(runtime) == before
    # The triggers came back with the table.
    with runtime.sessions() as session:
        lead_id = session.scalar(select(StageChange.lead_id).limit(1))
    with transaction(runtime.sessions) as session:
        session.add(StageChange(**change_row(lead_id, "sql", T0 - timedelta(days=1))))
    assert stored(runtime) == defined_entries(runtime)


def test_the_rebuild_command_puts_damaged_entries_right(runtime, db_command):
    mixed_history(runtime)
    right = stored(runtime)
    with runtime.sessions() as session:
        first, second = session.execute(
            select(StageEntry.change_id, StageEntry.stage)
            .order_by(StageEntry.change_id, StageEntry.stage)
            .limit(2)
        ).all()
        change = session.scalar(select(StageChange).where(StageChange.to_stage == "subscriber"))
        assert change is not None
        stray = {"change_id": change.id, "stage": "sal", "lead_id": change.lead_id, "at": T0}
    with transaction(runtime.sessions) as session:
        session.execute(
            update(StageEntry)
            .where(StageEntry.change_id == first[0], StageEntry.stage == first[1])
            .values(prev_at=T0 - timedelta(days=99))
        )
        session.execute(
            delete(StageEntry).where(
                StageEntry.change_id == second[0], StageEntry.stage == second[1]
            )
        )
        session.execute(insert(StageEntry).values(stray))
    # The changed row counts on each side, the missing and the stray one once.
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    assert "stage_entries: 4 rows differ from the stage history" in checked.output

    rebuilt = db_command("rebuild-rollups")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"stage_entries: {len(right)} rows recomputed from the stage history (4 differed" in (
        rebuilt.output
    )
    assert stored(runtime) == right
    assert "stage_entries: 0 rows differ" in db_command("rebuild-rollups", "--check").output


# The focused story: A (in two campaigns) enters MQL on Jan 10, before the period, then
# on Mar 5, Mar 20 and Apr 8 after a rejection each time; B (in one) on Mar 15, accepted
# on Mar 16.
JAN = datetime(2026, 1, 1, 9, tzinfo=UTC)


def _day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, tzinfo=UTC)


@pytest.fixture
def twice(runtime, tmp_path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    folder = tmp_path / "campaigns"
    shutil.copytree(FIXTURES, folder)
    drip = (folder / "drip.yaml").read_text(encoding="utf-8")
    other = drip.replace("id: test-drip", "id: test-drip-2").replace("Test drip", "Test drip 2")
    Path(folder / "drip2.yaml").write_text(other, encoding="utf-8")
    sync_fixture_campaigns(runtime, folder, now=JAN - timedelta(days=1))
    a = add_lead(runtime, "a@twice.example", created_at=JAN)
    b = add_lead(runtime, "b@twice.example", created_at=JAN)
    for lead, campaign in ((a, "test-drip"), (a, "test-drip-2"), (b, "test-drip")):
        enrol(runtime, lead, campaign, now=JAN)
    moves = [
        (a, "lead", "mql", _day(1, 10)),
        (a, "mql", "recycled", _day(2, 1)),
        (a, "recycled", "mql", _day(3, 5)),
        (a, "mql", "recycled", _day(3, 10)),
        (a, "recycled", "mql", _day(3, 20)),
        (a, "mql", "recycled", _day(4, 2)),
        (a, "recycled", "mql", _day(4, 8)),
        (b, "lead", "mql", _day(3, 15)),
        (b, "mql", "sal", _day(3, 16)),
    ]
    with transaction(runtime.sessions) as session:
        # Recorded out of order: the entries' previous ones must not depend on it.
        session.execute(
            insert(StageChange).values(
                [change_row(lead, to, at, frm) for lead, frm, to, at in reversed(moves)]
            )
        )
    return {"a": a, "b": b}


def _mql_sal(runtime, start: str, end: str, by: str | None) -> dict[Any, tuple[int, int]]:  # type: ignore[no-untyped-def]
    report = parse_filter(start=start, end=end, group_by=by, today=date(2026, 6, 1))
    with runtime.sessions() as session:
        found = funnel_report(session, report)
    return {row.group: (row.counts["mql"], row.counts["sal"]) for row in found.rows}


def test_a_lead_entering_a_stage_twice_in_the_period_counts_once(runtime, twice):
    assert stored(runtime) == defined_entries(runtime)
    assert _mql_sal(runtime, "2026-03-01", "2026-05-01", None) == {None: (2, 1)}
    assert _mql_sal(runtime, "2026-03-01", "2026-05-01", "month") == {
        "2026-03": (2, 1),
        "2026-04": (1, 0),
    }
    assert _mql_sal(runtime, "2026-03-01", "2026-05-01", "campaign") == {
        "test-drip": (2, 1),
        "test-drip-2": (1, 0),
    }
    # From Mar 12, A's entry of Mar 20 is its first in the period though Mar 5's is in the
    # same month; Apr 8's is its first in April.
    assert _mql_sal(runtime, "2026-03-12", "2026-05-01", "month") == {
        "2026-03": (2, 1),
        "2026-04": (1, 0),
    }
    assert _mql_sal(runtime, "2026-03-12", "2026-04-01", None) == {None: (2, 1)}
    # Only the entry before the period: nothing in it.
    assert _mql_sal(runtime, "2026-02-01", "2026-03-01", "month") == {"2026-02": (0, 0)}


def test_the_migrations_triggers_name_the_funnel_stages_of_the_code():
    # The triggers' SQL is frozen in migration 9880: a funnel stage renamed, added or
    # reordered in the code needs a migration that rewrites them.
    path = Path(__file__).parents[3] / "migrations" / "versions" / "20261207_9880_stage_entries.py"
    spec = importlib.util.spec_from_file_location("migration_9880", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.STAGES == FUNNEL_STAGES

"""The roll-up of first stage times (``lead_stage_firsts``) follows every stage change in
its transaction, equals a full recomputation from the stage history, is filled by its
migration from a history already recorded, and is rebuilt by ``nurture db rebuild-rollups``
(the story and its hand-worked first times: ``rollup_support``)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, update

from nurture.analytics import rollup
from nurture.models import LeadStageFirst
from nurture.platform import migrate
from nurture.platform.db import make_engine, transaction
from tests.integration.analytics.rollup_support import RollupStory, at, rows, tell_rollup_story

STAGES = ("mql", "sal", "sql", "opportunity", "customer")


@pytest.fixture
def story(runtime, tmp_path) -> RollupStory:  # type: ignore[no-untyped-def]
    return tell_rollup_story(runtime, tmp_path)


def firsts(runtime, story: RollupStory) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    names = {lead_id: name for name, lead_id in story.leads.items()}
    return {names[row[0]]: row[2:] for row in rows(runtime, rollup.stored_firsts())}


def test_each_stage_change_moves_the_leads_first_times_as_worked_out_by_hand(runtime, story):
    assert firsts(runtime, story) == {
        "R1": (at(1, 5), at(1, 6), at(1, 20), at(1, 20), at(1, 20)),
        "R2": (at(1, 3), at(2, 2), None, None, None),
        "R3": (at(1, 4), at(1, 4), at(1, 4), at(1, 12), at(1, 12)),
        "R4": (at(1, 5), None, None, None, None),
        "R5": (None, None, at(1, 8), None, None),
    }
    with runtime.sessions() as session:
        created = {row.lead_id: row.created_at for row in session.query(LeadStageFirst).all()}
    assert created[story.leads["R1"]] == at(1, 1) and created[story.leads["R3"]] == at(1, 3)


def test_the_roll_up_equals_a_full_recomputation_from_the_stage_history(runtime, story):
    stored = rows(runtime, rollup.stored_firsts())
    assert stored == rows(runtime, rollup.recomputed_firsts())
    assert len(stored) == 5  # R6 never entered the funnel
    with runtime.sessions() as session:
        assert rollup.count_differences(session) == 0


def test_the_migration_fills_the_table_from_a_history_already_recorded(
    runtime, story, database_url
):
    before = rows(runtime, rollup.stored_firsts())
    engine = make_engine(database_url)
    try:
        config = migrate.alembic_config(database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            # The revision before the roll-up's: a database upgraded from before it.
            before_rollup = ScriptDirectory.from_config(config).get_revision("9660").down_revision
            command.downgrade(config, str(before_rollup))
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert rows(runtime, rollup.stored_firsts()) == before


def test_the_rebuild_command_puts_a_damaged_table_right_and_changes_nothing_twice(
    runtime, story, db_command
):
    right = rows(runtime, rollup.stored_firsts())
    with transaction(runtime.sessions) as session:
        session.execute(delete(LeadStageFirst).where(LeadStageFirst.lead_id == story.leads["R2"]))
        session.execute(
            update(LeadStageFirst)
            .where(LeadStageFirst.lead_id == story.leads["R3"])
            .values(mql_at=at(3, 1))
        )
    # R2 is missing (1 row on history's side); R3 differs (1 row on each side): 3.
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    assert "3 rows differ" in checked.output
    assert rows(runtime, rollup.stored_firsts()) != right

    rebuilt = db_command("rebuild-rollups")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "5 rows recomputed" in rebuilt.output and "(3 differed before)" in rebuilt.output
    assert rows(runtime, rollup.stored_firsts()) == right

    again = db_command("rebuild-rollups")
    assert "5 rows recomputed" in again.output and "(0 differed before)" in again.output
    assert rows(runtime, rollup.stored_firsts()) == right
    assert db_command("rebuild-rollups", "--check").exit_code == 0

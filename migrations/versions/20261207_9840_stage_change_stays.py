"""Each stage change carries the stay it ends (``stage_changes.stay_began_at`` and
``stay_stage``: the time and ``to_stage`` of the lead's change just before it in (``at``,
``id``) order, NULL for its first), so the velocity report reads a stay as one row of the
period's changes instead of sorting every history of the leads that left a stage. Filled
from the history already recorded and kept by triggers on ``stage_changes``, so that every
writer (``change_stage``, a bulk insert, a fixture, a change recorded out of order) keeps
it in its own transaction (``nurture.analytics.stay_columns``).

Revision ID: 9840
Revises: 9820
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9840"
down_revision: str | None = "9820"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Velocity's stays of a period by stage, from the index alone (EXPLAIN ANALYZE on the
# benchmark's database: an index-only scan of 0.14 M entries instead of a scan of the
# table's 0.9 M changes).
INDEX = "ix_stage_changes_stay_stage_at"

def _before(row: str, column: str) -> str:
    """The ``column`` of the lead's change just before ``row``'s place in the order."""
    return (
        f"(SELECT p.{column} FROM stage_changes p WHERE p.lead_id = {row}.lead_id"
        f" AND (p.at, p.id) < ({row}.at, {row}.id) ORDER BY p.at DESC, p.id DESC LIMIT 1)"
    )


def _after(row: str) -> str:
    """The id of the lead's change just after ``row``'s place in the order."""
    return (
        f"(SELECT n.id FROM stage_changes n WHERE n.lead_id = {row}.lead_id"
        f" AND (n.at, n.id) > ({row}.at, {row}.id) ORDER BY n.at, n.id LIMIT 1)"
    )


# Recompute the stay of the rows named by a condition from the rows as they now are: each
# trigger below ends in a table where every row's stay is its predecessor's, whatever
# order a statement's rows are visited in.
def _recompute(where: str) -> str:
    return (
        f"UPDATE stage_changes SET stay_began_at = {_before('stage_changes', 'at')},"
        f" stay_stage = {_before('stage_changes', 'to_stage')} WHERE {where};"
    )


# A change recorded before the lead's latest (a clock set back, an import of old history)
# becomes its successor's predecessor.
FIX_SUCCESSOR = (
    "UPDATE stage_changes SET stay_began_at = NEW.at, stay_stage = NEW.to_stage"
    f" WHERE id = {_after('NEW')};"
)
# A moved change (its time, stage or lead) can change the stays of every change of both
# leads: the product never moves one, so the whole of each lead is recomputed. Only the
# stay columns are set, so this trigger does not fire itself.
RECOMPUTE_MOVED = _recompute("lead_id IN (OLD.lead_id, NEW.lead_id)")
MOVED = "OLD.lead_id <> NEW.lead_id OR OLD.at <> NEW.at OR OLD.to_stage <> NEW.to_stage"
# A deleted change's successor takes the change before it. A lead's deletion cascades to all
# its changes: each finds no successor left, one index probe.
RECOMPUTE_SUCCESSOR = _recompute(f"id = {_after('OLD')}")

# PostgreSQL: the new row's stay is set before it is written (no second version of it).
# The lead's row is locked first, as ``change_stage`` already has it (it updates the
# lead's stage): two transactions adding changes to one lead then take turns, and the
# second reads the first's change as its predecessor.
POSTGRES_INSERT = (
    "PERFORM 1 FROM leads WHERE id = NEW.lead_id FOR NO KEY UPDATE;"
    " SELECT p.at, p.to_stage INTO NEW.stay_began_at, NEW.stay_stage FROM stage_changes p"
    " WHERE p.lead_id = NEW.lead_id AND (p.at, p.id) < (NEW.at, NEW.id)"
    " ORDER BY p.at DESC, p.id DESC LIMIT 1;"
    f" {FIX_SUCCESSOR}"
    " RETURN NEW;"
)
# SQLite cannot set NEW: the row is updated after its insert.
SQLITE_INSERT = f"{_recompute('id = NEW.id')} {FIX_SUCCESSOR}"

TRIGGERS = ("stage_changes_stay_insert", "stage_changes_stay_update", "stage_changes_stay_delete")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"
    )


def _triggers() -> None:
    insert, update, delete = TRIGGERS
    if _postgres():
        _function(insert, POSTGRES_INSERT)
        op.execute(
            f"CREATE TRIGGER {insert} BEFORE INSERT ON stage_changes FOR EACH ROW"
            f" EXECUTE FUNCTION {insert}()"
        )
        # AFTER … FOR EACH ROW runs once the statement has written all its rows, so each
        # recomputation reads the table as the statement left it.
        _function(update, f"{RECOMPUTE_MOVED} RETURN NULL;")
        op.execute(
            f"CREATE TRIGGER {update} AFTER UPDATE OF lead_id, at, to_stage ON stage_changes"
            f" FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION {update}()"
        )
        _function(delete, f"{RECOMPUTE_SUCCESSOR} RETURN NULL;")
        op.execute(
            f"CREATE TRIGGER {delete} AFTER DELETE ON stage_changes FOR EACH ROW"
            f" EXECUTE FUNCTION {delete}()"
        )
        return
    op.execute(
        f"CREATE TRIGGER {insert} AFTER INSERT ON stage_changes FOR EACH ROW"
        f" BEGIN {SQLITE_INSERT} END"
    )
    op.execute(
        f"CREATE TRIGGER {update} AFTER UPDATE OF lead_id, at, to_stage ON stage_changes"
        f" FOR EACH ROW WHEN {MOVED} BEGIN {RECOMPUTE_MOVED} END"
    )
    op.execute(
        f"CREATE TRIGGER {delete} AFTER DELETE ON stage_changes FOR EACH ROW"
        f" BEGIN {RECOMPUTE_SUCCESSOR} END"
    )


def upgrade() -> None:
    with op.batch_alter_table("stage_changes") as batch:
        batch.add_column(sa.Column("stay_began_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("stay_stage", sa.String(length=20), nullable=True))
    if _postgres():
        # The fill sorts every change by lead and time: in memory rather than on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute(
        """
        UPDATE stage_changes SET stay_began_at = history.began_at, stay_stage = history.stage
        FROM (
            SELECT id,
                   lag(at) OVER lead_order AS began_at,
                   lag(to_stage) OVER lead_order AS stage
            FROM stage_changes
            WINDOW lead_order AS (PARTITION BY lead_id ORDER BY at, id)
        ) AS history
        WHERE stage_changes.id = history.id AND history.began_at IS NOT NULL
        """
    )
    # Built after the fill, which then writes no index entries for it.
    op.create_index(
        INDEX,
        "stage_changes",
        ["stay_stage", "at"],
        postgresql_include=["stay_began_at", "lead_id"],
        postgresql_where=sa.text("stay_stage IS NOT NULL"),
        sqlite_where=sa.text("stay_stage IS NOT NULL"),
    )
    _triggers()


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}" + (" ON stage_changes" if _postgres() else ""))
        if _postgres():
            op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_index(INDEX, table_name="stage_changes")
    with op.batch_alter_table("stage_changes") as batch:
        batch.drop_column("stay_stage")
        batch.drop_column("stay_began_at")

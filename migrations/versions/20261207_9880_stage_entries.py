"""Each entry of a lead into a funnel stage (``stage_entries``: one row per stage change and
funnel stage it enters, with the time of the lead's previous entry into that stage), so the
funnel's period view counts the leads that entered each stage as rows of the period, without
summing each lead's changes first (``nurture.analytics.stage_entries``). Filled from the
history already recorded and kept by triggers on ``stage_changes``, so that every writer
(``change_stage``, a bulk insert, a fixture, a change recorded out of order) keeps it in its
own transaction.

Revision ID: 9880
Revises: 9870
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9880"
down_revision: str | None = "9870"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# nurture.analytics.definitions.FUNNEL_STAGES as of this revision, in rank order (1 …).
STAGES = ("mql", "sal", "sql", "opportunity", "customer")
_FUNNEL = ", ".join(f"'{stage}'" for stage in STAGES)
# The stages as a derived table (stage, rank): SQLite's triggers allow no CTE nor VALUES
# with names, a UNION ALL of constants they do.
_STAGE_TABLE = (
    "("
    + " UNION ALL ".join(f"SELECT '{s}' AS stage, {n} AS rank" for n, s in enumerate(STAGES, 1))
    + ")"
)

# The entries' order within a lead and stage: (at, change_id), the changes' (at, id).
LOOKUP_INDEX = "ix_stage_entries_lead_id_stage_at"
# The period view reads a period's entries from this index alone on PostgreSQL.
PERIOD_INDEX = "ix_stage_entries_at"


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(STAGES, 1))
    return f"(CASE {column} {whens} ELSE 0 END)"


def _enters(stage: str, rank: str, change: str) -> str:
    """SQL: ``change`` (a stage change: NEW, OLD, an alias) enters the funnel stage named
    ``stage`` of rank ``rank`` (``nurture.analytics.definitions.entered_stages``)."""
    return (
        f"(({rank} > {_rank(f'{change}.from_stage')} AND {rank} <= {_rank(f'{change}.to_stage')})"
        f" OR {stage} = {change}.to_stage)"
    )


def _previous(lead_id: str, stage: str, at: str, change_id: str) -> str:
    """The ``at`` of the lead's entry into ``stage`` just before (``at``, ``change_id``)."""
    return (
        f"(SELECT p.at FROM stage_entries p WHERE p.lead_id = {lead_id} AND p.stage = {stage}"  # noqa: S608 (constants of this module)
        f" AND (p.at, p.change_id) < ({at}, {change_id})"
        " ORDER BY p.at DESC, p.change_id DESC LIMIT 1)"
    )


# The new change's entries, each after the lead's entry into its stage just before it.
INSERT_ENTRIES = (
    "INSERT INTO stage_entries (change_id, stage, lead_id, at, prev_at)"  # noqa: S608 (constants of this module)
    " SELECT NEW.id, s.stage, NEW.lead_id, NEW.at,"
    f" {_previous('NEW.lead_id', 's.stage', 'NEW.at', 'NEW.id')}"
    f" FROM {_STAGE_TABLE} s WHERE {_enters('s.stage', 's.rank', 'NEW')};"
)
# A change recorded before the lead's latest entry into a stage it enters (a clock set
# back, an import of old history) becomes that stage's next entry's previous one.
FIX_SUCCESSORS = (
    "UPDATE stage_entries SET prev_at = NEW.at"  # noqa: S608 (constants of this module)
    " WHERE lead_id = NEW.lead_id AND (at, change_id) > (NEW.at, NEW.id)"
    f" AND {_enters('stage', _rank('stage'), 'NEW')}"
    " AND NOT EXISTS (SELECT 1 FROM stage_entries b WHERE b.lead_id = NEW.lead_id"
    " AND b.stage = stage_entries.stage AND (b.at, b.change_id) > (NEW.at, NEW.id)"
    " AND (b.at, b.change_id) < (stage_entries.at, stage_entries.change_id));"
)


def _recompute_lead(lead_id: str) -> str:
    """Every entry of the lead ``lead_id`` recomputed from its changes as they now are:
    its entries go, its changes' entries come back, then each takes its previous one."""
    return (
        f"DELETE FROM stage_entries WHERE lead_id = {lead_id};"  # noqa: S608 (constants of this module)
        " INSERT INTO stage_entries (change_id, stage, lead_id, at)"
        f" SELECT c.id, s.stage, c.lead_id, c.at FROM stage_changes c, {_STAGE_TABLE} s"
        f" WHERE c.lead_id = {lead_id} AND c.to_stage IN ({_FUNNEL})"
        f" AND {_enters('s.stage', 's.rank', 'c')};"
        " UPDATE stage_entries SET prev_at = "
        + _previous(lead_id, "stage_entries.stage", "stage_entries.at", "stage_entries.change_id")
        + f" WHERE lead_id = {lead_id};"
    )


# A deleted or moved change (its time, stages or lead, which the product never does) can
# change every entry of its lead (of both leads): each is recomputed whole. A lead's
# deletion cascades to its changes, each of which recomputes what is left of the lead.
RECOMPUTE_DELETED = _recompute_lead("OLD.lead_id")
RECOMPUTE_MOVED = _recompute_lead("OLD.lead_id") + " " + _recompute_lead("NEW.lead_id")
MOVED = (
    "OLD.lead_id <> NEW.lead_id OR OLD.at <> NEW.at OR OLD.to_stage <> NEW.to_stage"
    " OR OLD.from_stage {distinct} NEW.from_stage"
)
# Only a change into a funnel stage enters one (entered_stages).
INTO_FUNNEL = "{row}.to_stage IN (" + _FUNNEL + ")"

# PostgreSQL: the lead's row is locked first, as ``change_stage`` already has it (it
# updates the lead's stage) and as the stays' trigger does: two transactions adding
# changes to one lead then take turns, and the second reads the first's entries.
_LOCK = "PERFORM 1 FROM leads WHERE id IN ({ids}) ORDER BY id FOR NO KEY UPDATE;"

TRIGGERS = ("stage_entries_insert", "stage_entries_update", "stage_entries_delete")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"
    )


def _triggers() -> None:
    insert, update, delete = TRIGGERS
    columns = "lead_id, at, from_stage, to_stage"
    if _postgres():
        # AFTER: an entry names its change (a foreign key), which must be written first.
        _function(
            insert,
            f"{_LOCK.format(ids='NEW.lead_id')} {INSERT_ENTRIES} {FIX_SUCCESSORS} RETURN NULL;",
        )
        op.execute(
            f"CREATE TRIGGER {insert} AFTER INSERT ON stage_changes FOR EACH ROW"
            f" WHEN ({INTO_FUNNEL.format(row='NEW')}) EXECUTE FUNCTION {insert}()"
        )
        lock_both = _LOCK.format(ids="OLD.lead_id, NEW.lead_id")
        _function(update, f"{lock_both} {RECOMPUTE_MOVED} RETURN NULL;")
        op.execute(
            f"CREATE TRIGGER {update} AFTER UPDATE OF {columns} ON stage_changes"
            f" FOR EACH ROW WHEN ({MOVED.format(distinct='IS DISTINCT FROM')})"
            f" EXECUTE FUNCTION {update}()"
        )
        _function(delete, f"{_LOCK.format(ids='OLD.lead_id')} {RECOMPUTE_DELETED} RETURN NULL;")
        op.execute(
            f"CREATE TRIGGER {delete} AFTER DELETE ON stage_changes FOR EACH ROW"
            f" WHEN ({INTO_FUNNEL.format(row='OLD')}) EXECUTE FUNCTION {delete}()"
        )
        return
    op.execute(
        f"CREATE TRIGGER {insert} AFTER INSERT ON stage_changes FOR EACH ROW"
        f" WHEN {INTO_FUNNEL.format(row='NEW')} BEGIN {INSERT_ENTRIES} {FIX_SUCCESSORS} END"
    )
    op.execute(
        f"CREATE TRIGGER {update} AFTER UPDATE OF {columns} ON stage_changes FOR EACH ROW"
        f" WHEN {MOVED.format(distinct='IS NOT')} BEGIN {RECOMPUTE_MOVED} END"
    )
    op.execute(
        f"CREATE TRIGGER {delete} AFTER DELETE ON stage_changes FOR EACH ROW"
        f" WHEN {INTO_FUNNEL.format(row='OLD')} BEGIN {RECOMPUTE_DELETED} END"
    )


def upgrade() -> None:
    op.create_table(
        "stage_entries",
        sa.Column("change_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("prev_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["stage_changes.id"],
            name=op.f("fk_stage_entries_change_id_stage_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("change_id", "stage", name=op.f("pk_stage_entries")),
    )
    if _postgres():
        # The fill sorts every entry by lead, stage and time: in memory rather than on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute(
        f"""
        INSERT INTO stage_entries (change_id, stage, lead_id, at, prev_at)
        SELECT c.id, s.stage, c.lead_id, c.at,
               lag(c.at) OVER (PARTITION BY c.lead_id, s.stage ORDER BY c.at, c.id)
        FROM stage_changes c CROSS JOIN {_STAGE_TABLE} s
        WHERE c.to_stage IN ({_FUNNEL}) AND {_enters("s.stage", "s.rank", "c")}
        """  # noqa: S608 (constants of this module)
    )
    # Built after the fill, which then writes no index entries for them.
    op.create_index(LOOKUP_INDEX, "stage_entries", ["lead_id", "stage", "at", "change_id"])
    op.create_index(
        PERIOD_INDEX, "stage_entries", ["at"], postgresql_include=["stage", "prev_at", "lead_id"]
    )
    _triggers()


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}" + (" ON stage_changes" if _postgres() else ""))
        if _postgres():
            op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_table("stage_entries")

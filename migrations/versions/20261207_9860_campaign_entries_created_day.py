"""Each lead's first enrolment in each campaign carries the day of the lead's creation as a
number (``campaign_entries.created_day``, 20260105 for 5 January 2026, UTC), kept by the
same triggers as the rest of the row, and the period's pairs are read by it
(``ix_campaign_entries_created_day``, replacing the index by ``created_at``).

A report grouped by campaign counts the period's pairs per month (the cohort view) or per
day (the volume): about a million pairs for a year on the benchmark's database, each of
which cost two or three ``date_part`` calls; the stored number makes the month an integer
division and the day a column.

Revision ID: 9860
Revises: 9850
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9860"
down_revision: str | None = "9850"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The creation's day as a number, as ``nurture.analytics.scope.day_number`` computes it
# (PostgreSQL: date_part's exact doubles; SQLite keeps the time as ISO text).
DAY = {
    "postgresql": (
        "CAST(date_part('year', {at}) * 10000 + date_part('month', {at}) * 100"
        " + date_part('day', {at}) AS integer)"
    ),
    "sqlite": "CAST(strftime('%Y%m%d', {at}) AS INTEGER)",
}

# The row a first entry adds (row-level triggers), with or without the day.
ADD = {
    False: (
        "INSERT INTO campaign_entries (lead_id, campaign_id, created_at)"
        " SELECT l.id, {row}.campaign_id, l.created_at FROM leads l WHERE l.id = {row}.lead_id"
    ),
    True: (
        "INSERT INTO campaign_entries (lead_id, campaign_id, created_at, created_day)"
        " SELECT l.id, {row}.campaign_id, l.created_at, {day}"
        " FROM leads l WHERE l.id = {row}.lead_id"
    ),
}
REMOVE = (
    "DELETE FROM campaign_entries"
    " WHERE lead_id = {row}.lead_id AND campaign_id = {row}.campaign_id"
)
# PostgreSQL's statement-level insert (over the statement's rows, a transition table).
ADD_WRITTEN = {
    False: (
        "INSERT INTO campaign_entries (lead_id, campaign_id, created_at)"
        " SELECT w.lead_id, w.campaign_id, l.created_at FROM written w"
        " JOIN leads l ON l.id = w.lead_id WHERE w.entry_number = 1;"
    ),
    True: (
        "INSERT INTO campaign_entries (lead_id, campaign_id, created_at, created_day)"
        " SELECT w.lead_id, w.campaign_id, l.created_at, {day} FROM written w"
        " JOIN leads l ON l.id = w.lead_id WHERE w.entry_number = 1;"
    ),
}


def _dialect() -> str:
    return op.get_bind().dialect.name


def _add(row: str, with_day: bool, dialect: str) -> str:
    return ADD[with_day].format(row=row, day=DAY[dialect].format(at="l.created_at"))


# SQLite's row-level triggers of migration 9820 (a body cannot be replaced, only the trigger).
SQLITE_TRIGGERS = ("campaign_entries_insert", "campaign_entries_delete", "campaign_entries_update")


def _drop_sqlite_triggers() -> None:
    """SQLite checks every trigger that names a table when the table is renamed, as the
    batch's rebuild of ``campaign_entries`` does: they go first and come back after."""
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")


def _triggers(with_day: bool) -> None:
    """The insert and update triggers of migration 9820 writing the table's columns
    (PostgreSQL: their functions replaced; the delete trigger names no column but the key,
    so it stays). SQLite: the three triggers, dropped before (``_drop_sqlite_triggers``)."""
    dialect = _dialect()
    if dialect == "postgresql":
        day = DAY[dialect].format(at="l.created_at")
        functions = {
            "campaign_entries_insert": ADD_WRITTEN[with_day].format(day=day),
            "campaign_entries_update": (
                f"IF OLD.entry_number = 1 THEN {REMOVE.format(row='OLD')}; END IF;"
                f" IF NEW.entry_number = 1 THEN {_add('NEW', with_day, dialect)}; END IF;"
            ),
        }
        for name, statements in functions.items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN {statements} RETURN NULL; END $$"
            )
        return
    remove = REMOVE.format(row="OLD")
    add = _add("NEW", with_day, dialect)
    triggers = {
        "campaign_entries_insert": ("INSERT", "NEW.entry_number = 1", f"{add};"),
        "campaign_entries_delete": ("DELETE", "OLD.entry_number = 1", f"{remove};"),
        "campaign_entries_update": (
            "UPDATE OF lead_id, campaign_id, entry_number",
            "OLD.entry_number = 1 OR NEW.entry_number = 1",
            f"{remove} AND OLD.entry_number = 1; {add} AND NEW.entry_number = 1;",
        ),
    }
    for name, (event, condition, body) in triggers.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON enrollments FOR EACH ROW"
            f" WHEN {condition} BEGIN {body} END"
        )


def upgrade() -> None:
    dialect = _dialect()
    op.drop_index(op.f("ix_campaign_entries_created_at"), table_name="campaign_entries")
    op.add_column("campaign_entries", sa.Column("created_day", sa.Integer(), nullable=True))
    day = DAY[dialect].format(at="created_at")
    if dialect == "postgresql":
        # One rewrite of the table that computes every row's day (an UPDATE would leave a
        # dead copy of each of its rows behind), then checks it is set.
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.execute(
            "ALTER TABLE campaign_entries"
            f" ALTER COLUMN created_day TYPE integer USING {day},"
            " ALTER COLUMN created_day SET NOT NULL"
        )
    else:
        op.execute(f"UPDATE campaign_entries SET created_day = {day}")
        _drop_sqlite_triggers()
        with op.batch_alter_table("campaign_entries") as batch:
            batch.alter_column("created_day", existing_type=sa.Integer(), nullable=False)
    op.create_index(
        op.f("ix_campaign_entries_created_day"),
        "campaign_entries",
        ["created_day", "campaign_id", "lead_id"],
        unique=False,
    )
    _triggers(with_day=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_entries_created_day"), table_name="campaign_entries")
    if _dialect() == "postgresql":
        op.drop_column("campaign_entries", "created_day")
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    else:
        _drop_sqlite_triggers()
        with op.batch_alter_table("campaign_entries") as batch:
            batch.drop_column("created_day")
    op.create_index(
        op.f("ix_campaign_entries_created_at"),
        "campaign_entries",
        ["created_at", "campaign_id", "lead_id"],
        unique=False,
    )
    _triggers(with_day=False)

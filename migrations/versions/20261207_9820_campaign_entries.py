"""Each lead's first enrolment in each campaign, beside the lead's creation
(``campaign_entries``): what the reports grouped by campaign read instead of the
enrolments (``nurture.analytics.campaign_entries``), filled from the enrolments already
recorded and kept by triggers on ``enrollments`` so that every writer (a use case, an
import's bulk insert) keeps it in its own transaction.

Revision ID: 9820
Revises: 9830
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9820"
down_revision: str | None = "9830"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The row a first entry adds, and the one a first entry's removal takes away. Entry 1 is
# unique per lead and campaign (the enrolments' unique key), so the pair is the row.
ADD = (
    "INSERT INTO campaign_entries (lead_id, campaign_id, created_at)"
    " SELECT l.id, {row}.campaign_id, l.created_at FROM leads l WHERE l.id = {row}.lead_id;"
)
REMOVE = (
    "DELETE FROM campaign_entries"
    " WHERE lead_id = {row}.lead_id AND campaign_id = {row}.campaign_id;"
)
# Row-level (SQLite; PostgreSQL for updates): (name, event, condition, statements).
# Enrolments are only ever inserted (and deleted with their lead); an update that moves a
# first entry is followed all the same.
TRIGGERS = (
    ("insert", "INSERT", "NEW.entry_number = 1", ADD.format(row="NEW")),
    ("delete", "DELETE", "OLD.entry_number = 1", REMOVE.format(row="OLD")),
    (
        "update",
        "UPDATE OF lead_id, campaign_id, entry_number",
        "OLD.entry_number = 1 OR NEW.entry_number = 1",
        None,
    ),
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _update_body(postgres: bool) -> str:
    if postgres:
        return (
            f"IF OLD.entry_number = 1 THEN {REMOVE.format(row='OLD')} END IF;"
            f" IF NEW.entry_number = 1 THEN {ADD.format(row='NEW')} END IF;"
        )
    # SQLite: each statement narrowed by its own condition.
    remove = REMOVE.format(row="OLD").rstrip(";") + " AND OLD.entry_number = 1;"
    add = ADD.format(row="NEW").rstrip(";") + " AND NEW.entry_number = 1;"
    return f"{remove} {add}"


# PostgreSQL: one statement per INSERT or DELETE over the rows it wrote (a transition
# table), so an import's multi-row insert adds its pairs in one INSERT … SELECT; measured on
# the benchmark's database (5,000 first entries in one statement): about half the cost of
# a row-level trigger (docs/benchmarks.md).
STATEMENT_TRIGGERS = (
    (
        "insert",
        "INSERT",
        "NEW TABLE AS written",
        "INSERT INTO campaign_entries (lead_id, campaign_id, created_at)"
        " SELECT w.lead_id, w.campaign_id, l.created_at FROM written w"
        " JOIN leads l ON l.id = w.lead_id WHERE w.entry_number = 1;",
    ),
    (
        "delete",
        "DELETE",
        "OLD TABLE AS removed",
        "DELETE FROM campaign_entries c USING removed r WHERE r.entry_number = 1"
        " AND c.lead_id = r.lead_id AND c.campaign_id = r.campaign_id;",
    ),
)


def _triggers() -> None:
    postgres = _postgres()
    if postgres:
        for name, event, transition, statements in STATEMENT_TRIGGERS:
            trigger = f"campaign_entries_{name}"
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN {statements} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON enrollments"
                f" REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
            )
    for name, event, condition, body in TRIGGERS:
        if postgres and name != "update":
            continue
        statements = body if body is not None else _update_body(postgres)
        trigger = f"campaign_entries_{name}"
        if postgres:
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN {statements} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON enrollments FOR EACH ROW"
                f" WHEN ({condition}) EXECUTE FUNCTION {trigger}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON enrollments FOR EACH ROW"
                f" WHEN {condition} BEGIN {statements} END"
            )


def upgrade() -> None:
    op.create_table(
        "campaign_entries",
        sa.Column("lead_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("campaign_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_entries_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_campaign_entries_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", "campaign_id", name=op.f("pk_campaign_entries")),
    )
    if _postgres():
        # The index built after the fill sorts every pair: in memory rather than on disk.
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute(
        """
        INSERT INTO campaign_entries (lead_id, campaign_id, created_at)
        SELECT e.lead_id, e.campaign_id, l.created_at
        FROM enrollments e JOIN leads l ON l.id = e.lead_id
        WHERE e.entry_number = 1
        """
    )
    op.create_index(
        op.f("ix_campaign_entries_created_at"),
        "campaign_entries",
        ["created_at", "campaign_id", "lead_id"],
        unique=False,
    )
    _triggers()


def downgrade() -> None:
    for name, _, _, _ in TRIGGERS:
        trigger = f"campaign_entries_{name}"
        op.execute(f"DROP TRIGGER {trigger}" + (" ON enrollments" if _postgres() else ""))
        if _postgres():
            op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_index(op.f("ix_campaign_entries_created_at"), table_name="campaign_entries")
    op.drop_table("campaign_entries")

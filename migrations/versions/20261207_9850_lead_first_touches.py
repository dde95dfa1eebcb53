"""Each lead's first human touch (``lead_first_touches``): what the sales cycle reads instead
of every won lead's events (``nurture.analytics.first_touches``), filled from the events
already recorded and kept by triggers on ``events`` so that every writer (the hit
processor's batch, a visitor's history moved onto its lead, a click re-flagged as a
scanner's, a bulk insert) keeps it in its own transaction.

Revision ID: 9850
Revises: 9840
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9850"
down_revision: str | None = "9840"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# nurture.analytics.first_touches.TOUCH_TYPES as of this revision (a later change of the
# definition replaces the triggers in its own migration).
TOUCH_TYPES = (
    "email.opened",
    "email.clicked",
    "form.submitted",
    "demo.requested",
    "trial.started",
    "webinar.attended",
    "content.downloaded",
    "page.viewed",
)
_TYPES = ", ".join(f"'{kind}'" for kind in TOUCH_TYPES)


def _touch(row: str) -> str:
    """SQL: ``row`` (NEW, OLD, a table alias) is a human touch of a lead."""
    return (
        f"{row}.lead_id IS NOT NULL AND NOT {row}.is_machine"
        f" AND ({row}.type IN ({_TYPES}) OR {row}.type LIKE 'custom.%')"
    )


# The first touch of the lead of ``row`` recomputed from its events, when ``row`` was a
# touch that may have been it (not later than the stored time): its row goes, and comes
# back with the earliest touch left (none when none is left).
RECOMPUTE = (
    "DELETE FROM lead_first_touches WHERE lead_id = {row}.lead_id"
    " AND touched_at >= {row}.occurred_at;"
    " INSERT INTO lead_first_touches (lead_id, touched_at)"
    " SELECT e.lead_id, min(e.occurred_at) FROM events e"
    " WHERE e.lead_id = {row}.lead_id AND " + _touch("e") + " AND NOT EXISTS"
    " (SELECT 1 FROM lead_first_touches t WHERE t.lead_id = {row}.lead_id)"
    # A lead being deleted takes its events with it, one by one on SQLite: none of them
    # may bring its row back.
    " AND EXISTS (SELECT 1 FROM leads l WHERE l.id = {row}.lead_id)"
    " GROUP BY e.lead_id;"
)
# A touch can only move its lead's first touch earlier.
EARLIER = (
    "INSERT INTO lead_first_touches (lead_id, touched_at) VALUES ({row}.lead_id, {row}.occurred_at)"
    " ON CONFLICT (lead_id) DO UPDATE SET touched_at = excluded.touched_at"
    " WHERE excluded.touched_at < lead_first_touches.touched_at;"
)
UPDATED = "UPDATE OF lead_id, type, is_machine, occurred_at"

# PostgreSQL, inserts: row by row, the condition checked by the trigger itself (no function
# call for a machine hit or a sent email). Row-level because the hit processor's batch is an
# executemany, one INSERT per event, so a statement-level trigger over the rows written
# would run its queries once per event all the same. A lead whose first touch is already
# earlier (most touches) is one index probe: ON CONFLICT would lock its row even when its
# WHERE does not update it. Measured: about 12 µs per event of the processor's mix on the
# benchmark's database (bench/first_touch_triggers.py, docs/benchmarks.md).
PG_INSERT = (
    "IF NOT EXISTS (SELECT 1 FROM lead_first_touches"
    " WHERE lead_id = NEW.lead_id AND touched_at <= NEW.occurred_at) THEN "
    + EARLIER.format(row="NEW")
    + " END IF;"
)
# PostgreSQL, deletes (only with their lead, or by hand): once per statement; the leads
# whose first touch may have gone are recomputed from the events left.
PG_DELETE = (
    "DELETE FROM lead_first_touches t USING (SELECT r.lead_id, min(r.occurred_at) AS gone_at"
    " FROM removed r WHERE " + _touch("r") + " GROUP BY r.lead_id) g"
    " WHERE t.lead_id = g.lead_id AND t.touched_at >= g.gone_at;"
    " INSERT INTO lead_first_touches (lead_id, touched_at)"
    " SELECT e.lead_id, min(e.occurred_at) FROM events e"
    " WHERE e.lead_id IN (SELECT r.lead_id FROM removed r WHERE " + _touch("r") + ")"
    " AND " + _touch("e") + " AND NOT EXISTS"
    " (SELECT 1 FROM lead_first_touches k WHERE k.lead_id = e.lead_id)"
    " GROUP BY e.lead_id;"
)
# PostgreSQL, updates (rare: a visitor identified, a click re-flagged), row by row.
PG_UPDATE = (
    f"IF {_touch('OLD')} THEN {RECOMPUTE.format(row='OLD')} END IF;"
    f" IF {_touch('NEW')} THEN {EARLIER.format(row='NEW')} END IF;"
)
# SQLite: row by row, one trigger per case, each narrowed by its own condition.
SQLITE_TRIGGERS = (
    ("insert", "INSERT", _touch("NEW"), EARLIER.format(row="NEW")),
    ("delete", "DELETE", _touch("OLD"), RECOMPUTE.format(row="OLD")),
    ("update_old", UPDATED, _touch("OLD"), RECOMPUTE.format(row="OLD")),
    ("update_new", UPDATED, _touch("NEW"), EARLIER.format(row="NEW")),
)
PG_TRIGGERS = ("insert", "delete", "update")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {body} RETURN NULL; END $$"
    )


def _triggers() -> None:
    if _postgres():
        _function("lead_first_touches_delete", PG_DELETE)
        op.execute(
            "CREATE TRIGGER lead_first_touches_delete AFTER DELETE ON events"
            " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
            " EXECUTE FUNCTION lead_first_touches_delete()"
        )
        for name, event, condition, body in (
            ("insert", "INSERT", _touch("NEW"), PG_INSERT),
            ("update", UPDATED, f"({_touch('OLD')}) OR ({_touch('NEW')})", PG_UPDATE),
        ):
            trigger = f"lead_first_touches_{name}"
            _function(trigger, body)
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON events FOR EACH ROW"
                f" WHEN ({condition}) EXECUTE FUNCTION {trigger}()"
            )
        return
    for name, event, condition, body in SQLITE_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER lead_first_touches_{name} AFTER {event} ON events FOR EACH ROW"
            f" WHEN {condition} BEGIN {body} END"
        )


def upgrade() -> None:
    op.create_table(
        "lead_first_touches",
        sa.Column("lead_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("touched_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_first_touches_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_first_touches")),
    )
    if _postgres():
        # The grouping of every human touch by lead: in memory rather than on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
    op.execute(
        "INSERT INTO lead_first_touches (lead_id, touched_at)"
        " SELECT e.lead_id, min(e.occurred_at) FROM events e"
        f" WHERE {_touch('e')} GROUP BY e.lead_id"
    )
    _triggers()


def downgrade() -> None:
    names = PG_TRIGGERS if _postgres() else tuple(name for name, *_ in SQLITE_TRIGGERS)
    for name in names:
        trigger = f"lead_first_touches_{name}"
        if _postgres():
            op.execute(f"DROP TRIGGER {trigger} ON events")
            op.execute(f"DROP FUNCTION {trigger}()")
        else:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("lead_first_touches")

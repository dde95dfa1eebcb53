"""The campaign results' roll-up (``nurture.analytics.email_rollup``): each counted email's
copy (``rolled_up_emails``), the figures per campaign, version, step, template and day
(``campaign_email_days``) and the distinct recipients made additive
(``campaign_recipient_days``), filled from the messages already recorded; and the queue of
leads whose campaign email changed since (``email_rollup_queue``), appended to by triggers
on ``messages`` so that no use case has to remember it.

Revision ID: 9790
Revises: 9710
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9790"
down_revision: str | None = "9710"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = (
    "delivered",
    "hard_bounced",
    "soft_bounced",
    "opened",
    "machine_opened",
    "clicked",
    "clicks",
    "machine_clicked",
    "unsubscribed",
    "complained",
)
EMAIL_COLUMNS = ("message_id", "lead_id", "campaign_id", "version_id", "step_key", "template",
                 "day", *FLAGS)  # fmt: skip


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), autoincrement=False, nullable=False)


def _day(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        parts = [f"date_part('{part}', {column})" for part in ("year", "month", "day")]
        return f"CAST({parts[0]} * 10000 + {parts[1]} * 100 + {parts[2]} AS integer)"
    return f"CAST(strftime('%Y%m%d', {column}) AS integer)"


def _fill() -> None:
    hard = "m.bounce_reported_at IS NOT NULL AND COALESCE(m.bounce_decision, '') = 'suppress'"
    soft = "m.bounce_reported_at IS NOT NULL AND COALESCE(m.bounce_decision, '') <> 'suppress'"

    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"

    columns = ", ".join(EMAIL_COLUMNS)
    op.execute(
        f"""
        WITH counted AS (
            SELECT m.id AS message_id, m.lead_id, m.campaign_id,
                COALESCE(m.campaign_version_id, 0) AS version_id,
                COALESCE(m.step_key, '') AS step_key, m.template, {_day("m.sent_at")} AS day,
                {flag("m.bounce_reported_at IS NULL")} AS delivered,
                {flag(hard)} AS hard_bounced, {flag(soft)} AS soft_bounced,
                {flag("m.opened_at IS NOT NULL")} AS opened,
                {flag("m.machine_opened_at IS NOT NULL")} AS machine_opened,
                {flag("m.clicked_at IS NOT NULL")} AS clicked,
                COALESCE(m.human_clicks, 0) AS clicks,
                {flag("m.machine_clicked_at IS NOT NULL")} AS machine_clicked,
                {flag("m.unsubscribed_at IS NOT NULL")} AS unsubscribed,
                {flag("m.complained_at IS NOT NULL")} AS complained
            FROM messages m
            WHERE m.kind = 'campaign' AND m.campaign_id IS NOT NULL AND m.sent_at IS NOT NULL
        )
        INSERT INTO rolled_up_emails ({columns}) SELECT {columns} FROM counted
        """
    )
    sums = ", ".join(f"sum({name})" for name in FLAGS[1:])
    op.execute(
        f"""
        INSERT INTO campaign_email_days (campaign_id, version_id, step_key, template, day,
            sent, {", ".join(FLAGS[1:])})
        SELECT campaign_id, version_id, step_key, template, day, count(*), {sums}
        FROM rolled_up_emails GROUP BY campaign_id, version_id, step_key, template, day
        """
    )
    chains = {
        "all": ("0", "''"),
        "campaign": ("campaign_id", "''"),
        "step": ("campaign_id", "step_key"),
        "template": ("campaign_id", "template"),
        "version": ("campaign_id", "CAST(version_id AS VARCHAR)"),
    }
    for chain, (campaign, group) in chains.items():
        op.execute(
            f"""
            INSERT INTO campaign_recipient_days (chain, campaign_id, group_key, day, prev_day,
                recipients)
            SELECT '{chain}', campaign_id, group_key, day, prev_day, count(*)
            FROM (
                SELECT campaign_id, group_key, day, COALESCE(lag(day) OVER (
                    PARTITION BY lead_id, campaign_id, group_key ORDER BY day), 0) AS prev_day
                FROM (SELECT DISTINCT lead_id, {campaign} AS campaign_id,
                        {group} AS group_key, day
                    FROM rolled_up_emails WHERE delivered = 1) AS days
            ) AS chained
            GROUP BY campaign_id, group_key, day, prev_day
            """
        )


# What a counted message is (``nurture.analytics.email_rollup.counted``), of ``row``.
def _counted(row: str) -> str:
    return (
        f"{row}.kind = 'campaign' AND {row}.campaign_id IS NOT NULL"
        f" AND {row}.sent_at IS NOT NULL"
    )


# Every column of a message that the roll-up reads: a change of any is queued.
WATCHED = (
    "lead_id",
    "kind",
    "campaign_id",
    "campaign_version_id",
    "step_key",
    "template",
    "sent_at",
    "bounce_reported_at",
    "bounce_decision",
    "opened_at",
    "machine_opened_at",
    "clicked_at",
    "human_clicks",
    "machine_clicked_at",
    "unsubscribed_at",
    "complained_at",
)
TRIGGERS = (
    "email_rollup_queue_insert",
    "email_rollup_queue_update",
    "email_rollup_queue_delete",
)


def _triggers() -> None:
    """Queue the lead of every counted message inserted, changed where the roll-up reads
    it, or deleted: one row-level insert in the writer's transaction, only for such rows
    (the WHEN clauses filter the rest without running anything)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    distinct = " IS DISTINCT FROM " if postgres else " IS NOT "
    changed = " OR ".join(f"OLD.{name}{distinct}NEW.{name}" for name in WATCHED)
    when = {
        "insert": ("INSERT", _counted("NEW")),
        "update": ("UPDATE", f"({_counted('OLD')} OR {_counted('NEW')}) AND ({changed})"),
        "delete": ("DELETE", _counted("OLD")),
    }
    if postgres:
        op.execute(
            """
            CREATE FUNCTION email_rollup_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    INSERT INTO email_rollup_queue (lead_id) VALUES (OLD.lead_id);
                    RETURN NULL;
                END IF;
                INSERT INTO email_rollup_queue (lead_id) VALUES (NEW.lead_id);
                IF TG_OP = 'UPDATE' AND OLD.lead_id <> NEW.lead_id THEN
                    INSERT INTO email_rollup_queue (lead_id) VALUES (OLD.lead_id);
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        for name, (event, condition) in when.items():
            op.execute(
                f"CREATE TRIGGER email_rollup_queue_{name} AFTER {event} ON messages"
                f" FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION email_rollup_enqueue()"
            )
        return
    for name, (event, condition) in when.items():
        row = "OLD" if event == "DELETE" else "NEW"
        moved = (
            "INSERT INTO email_rollup_queue (lead_id) SELECT OLD.lead_id"
            " WHERE OLD.lead_id <> NEW.lead_id;"
            if event == "UPDATE"
            else ""
        )
        op.execute(
            f"CREATE TRIGGER email_rollup_queue_{name} AFTER {event} ON messages"
            f" FOR EACH ROW WHEN {condition} BEGIN"
            f" INSERT INTO email_rollup_queue (lead_id) VALUES ({row}.lead_id); {moved} END"
        )


# A lead the roll-up holds or will read: its groups matter. The queue row of a lead that
# a pass is taking is still visible to others until the pass commits, and the pass's
# rolled_up_leads row from then on, so a change of groups is never missed between them.
_HELD = (
    "(EXISTS (SELECT 1 FROM rolled_up_leads r WHERE r.lead_id = {lead})"
    " OR EXISTS (SELECT 1 FROM email_rollup_queue q WHERE q.lead_id = {lead}))"
)
# (table, event, condition, leads to queue as a SELECT of lead ids): what changes a lead's
# groups (lead_groups: source, fit grade, owner, segment).
GROUP_TRIGGERS = (
    ("leads", "UPDATE",
     "OLD.source {d} NEW.source OR OLD.fit_grade {d} NEW.fit_grade"
     " OR OLD.account_id {d} NEW.account_id",
     "SELECT NEW.id WHERE " + _HELD.format(lead="NEW.id")),
    ("handoffs", "INSERT", "TRUE",
     "SELECT NEW.lead_id WHERE " + _HELD.format(lead="NEW.lead_id")),
    ("handoffs", "UPDATE", "OLD.rep_id {d} NEW.rep_id OR OLD.lead_id {d} NEW.lead_id",
     "SELECT NEW.lead_id WHERE " + _HELD.format(lead="NEW.lead_id")
     + " UNION SELECT OLD.lead_id WHERE " + _HELD.format(lead="OLD.lead_id")),
    ("handoffs", "DELETE", "TRUE",
     "SELECT OLD.lead_id WHERE " + _HELD.format(lead="OLD.lead_id")),
    ("accounts", "UPDATE", "OLD.employees {d} NEW.employees",
     "SELECT l.id FROM leads l WHERE l.account_id = NEW.id AND " + _HELD.format(lead="l.id")),
    ("sales_reps", "UPDATE", "OLD.email {d} NEW.email",
     "SELECT DISTINCT h.lead_id FROM handoffs h WHERE h.rep_id = NEW.id AND "
     + _HELD.format(lead="h.lead_id")),
)  # fmt: skip


def _group_triggers() -> None:
    """Queue the leads whose groups a change moves (the roll-up's lead groups)."""
    postgres = _postgres()
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
    for table, event, condition, leads in GROUP_TRIGGERS:
        name = f"email_rollup_{table}_{event.lower()}"
        when = condition.format(d=distinct)
        insert = f"INSERT INTO email_rollup_queue (lead_id) {leads};"
        if postgres:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN {insert} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
                f" WHEN ({when}) EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
                f" WHEN {when.replace('TRUE', '1')} BEGIN {insert} END"
            )


def upgrade() -> None:
    op.create_table(
        "email_rollup_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        _int("lead_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_rollup_queue")),
    )
    # Every reader of the queue looks its leads up (a pass, a report, a group trigger).
    op.create_index(
        op.f("ix_email_rollup_queue_lead_id"), "email_rollup_queue", ["lead_id"], unique=False
    )
    op.create_table(
        "rolled_up_leads",
        _int("lead_id"),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("segment", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_rolled_up_leads")),
    )
    op.create_table(
        "campaign_group_days",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        _int("campaign_id"),
        _int("day"),
        _int("sent"),
        *(_int(name) for name in FLAGS[1:]),
        sa.PrimaryKeyConstraint(
            "kind", "value", "campaign_id", "day", name=op.f("pk_campaign_group_days")
        ),
    )
    op.create_index(
        op.f("ix_campaign_group_days_kind_day"), "campaign_group_days", ["kind", "day"]
    )
    # The lead groups need the sales team's segments (a file, not SQL): the worker's first
    # roll-up pass computes them (segments NULL: never computed).
    state = op.create_table(
        "email_rollup_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("segments", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_rollup_state")),
    )
    op.bulk_insert(state, [{"id": 1, "segments": None}])
    _triggers()
    _group_triggers()
    op.create_table(
        "rolled_up_emails",
        _int("message_id"),
        _int("lead_id"),
        _int("campaign_id"),
        _int("version_id"),
        sa.Column("step_key", sa.String(201), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        _int("day"),
        *(_int(name) for name in FLAGS),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_rolled_up_emails")),
    )
    op.create_table(
        "campaign_email_days",
        _int("campaign_id"),
        _int("version_id"),
        sa.Column("step_key", sa.String(201), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        _int("day"),
        _int("sent"),
        *(_int(name) for name in FLAGS[1:]),
        sa.PrimaryKeyConstraint(
            "campaign_id",
            "version_id",
            "step_key",
            "template",
            "day",
            name=op.f("pk_campaign_email_days"),
        ),  # fmt: skip
    )
    op.create_table(
        "campaign_recipient_days",
        sa.Column("chain", sa.String(10), nullable=False),
        _int("campaign_id"),
        sa.Column("group_key", sa.String(320), nullable=False),
        _int("day"),
        _int("prev_day"),
        _int("recipients"),
        sa.PrimaryKeyConstraint(
            "chain",
            "campaign_id",
            "group_key",
            "day",
            "prev_day",
            name=op.f("pk_campaign_recipient_days"),
        ),  # fmt: skip
    )
    if op.get_bind().dialect.name == "postgresql":
        # The windows over every delivered email's lead and day, in memory, not on disk.
        op.execute("SET LOCAL work_mem = '256MB'")
    _fill()
    op.create_index(
        op.f("ix_rolled_up_emails_lead_id"), "rolled_up_emails", ["lead_id"], unique=False
    )
    op.create_index(
        op.f("ix_campaign_email_days_day"), "campaign_email_days", ["day"], unique=False
    )
    op.create_index(
        op.f("ix_campaign_recipient_days_chain_day"),
        "campaign_recipient_days",
        ["chain", "day"],
        unique=False,
    )
    if _postgres():
        # Planned without statistics, a lead's copies were read by a scan of every row.
        op.execute("ANALYZE rolled_up_emails, campaign_email_days, campaign_recipient_days")


def downgrade() -> None:
    op.drop_index(
        op.f("ix_campaign_recipient_days_chain_day"), table_name="campaign_recipient_days"
    )
    op.drop_index(op.f("ix_campaign_email_days_day"), table_name="campaign_email_days")
    op.drop_index(op.f("ix_rolled_up_emails_lead_id"), table_name="rolled_up_emails")
    op.drop_table("campaign_recipient_days")
    op.drop_table("campaign_email_days")
    op.drop_table("rolled_up_emails")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (" ON messages" if _postgres() else ""))
    if _postgres():
        op.execute("DROP FUNCTION email_rollup_enqueue()")
    for table, event, _, _ in GROUP_TRIGGERS:
        name = f"email_rollup_{table}_{event.lower()}"
        op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if _postgres() else ""))
        if _postgres():
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("email_rollup_state")
    op.drop_index(op.f("ix_campaign_group_days_kind_day"), table_name="campaign_group_days")
    op.drop_table("campaign_group_days")
    op.drop_table("rolled_up_leads")
    op.drop_index(op.f("ix_email_rollup_queue_lead_id"), table_name="email_rollup_queue")
    op.drop_table("email_rollup_queue")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"

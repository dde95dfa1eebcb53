"""The lead list: sort and search keys on leads and accounts, and their indexes.

Revision ID: 9530
Revises: 9501
"""

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import nurture.platform.db

revision: str = "9530"
down_revision: str | None = "9501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000
_DEFAULT_HALF_LIFE = timedelta(days=30)


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=320), server_default="", nullable=False))
        batch_op.add_column(sa.Column("full_name_key", sa.String(length=201), server_default="", nullable=False))
        batch_op.add_column(sa.Column("score_rank", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_activity_at", nurture.platform.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), server_default="", nullable=False))

    _backfill()

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.alter_column("last_activity_at", existing_type=nurture.platform.db.UTCDateTime(), nullable=False)
        batch_op.create_index("ix_leads_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_leads_last_activity_at_id", ["last_activity_at", "id"], unique=False)
        batch_op.create_index("ix_leads_score_rank_id", ["score_rank", "id"], unique=False)
        batch_op.create_index("ix_leads_name_key_id", ["name_key", "id"], unique=False)
        batch_op.create_index("ix_leads_email_pattern", ["email"], unique=False, postgresql_ops={"email": "text_pattern_ops"})
        batch_op.create_index("ix_leads_name_key_pattern", ["name_key"], unique=False, postgresql_ops={"name_key": "text_pattern_ops"})
        batch_op.create_index("ix_leads_full_name_key_pattern", ["full_name_key"], unique=False, postgresql_ops={"full_name_key": "text_pattern_ops"})
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_name_key", ["name_key"], unique=False, postgresql_ops={"name_key": "text_pattern_ops"})
        batch_op.create_index("ix_accounts_domain_pattern", ["domain"], unique=False, postgresql_ops={"domain": "text_pattern_ops"})


def _backfill() -> None:
    """Derive the keys of existing rows (the models keep them from now on)."""
    bind = op.get_bind()
    meta = sa.MetaData()
    leads = sa.Table("leads", meta, autoload_with=bind)
    accounts = sa.Table("accounts", meta, autoload_with=bind)
    events = sa.Table("events", meta, autoload_with=bind)
    bind.execute(sa.update(accounts).values(name_key=sa.func.lower(sa.func.coalesce(accounts.c.name, ""))))
    # Last activity: the newest human event tracking recorded (not the engine's own
    # bookkeeping events), else the lead's creation.
    latest = (
        sa.select(sa.func.max(events.c.occurred_at))
        .where(
            events.c.lead_id == leads.c.id,
            events.c.is_machine.is_(False),
            sa.or_(events.c.type.like("email.opened"), events.c.type.like("email.clicked"),
                   events.c.type.like("page.%"), events.c.type.like("form.%")),
        )
        .scalar_subquery()
    )
    bind.execute(sa.update(leads).values(last_activity_at=sa.func.coalesce(latest, leads.c.created_at)))
    after = 0
    while True:
        rows = bind.execute(
            sa.select(leads.c.id, leads.c.email, leads.c.first_name, leads.c.last_name,
                      leads.c.score_value, leads.c.score_as_of, leads.c.score_half_life)
            .where(leads.c.id > after).order_by(leads.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            first = (row.first_name or "").strip().lower()
            last = (row.last_name or "").strip().lower()
            half_life = timedelta(seconds=row.score_half_life) if row.score_half_life else _DEFAULT_HALF_LIFE
            bind.execute(
                sa.update(leads).where(leads.c.id == row.id).values(
                    name_key=(f"{last} {first}".strip() or row.email.lower())[:320],
                    full_name_key=f"{first} {last}".strip()[:201],
                    score_rank=_rank(row.score_value or 0.0, row.score_as_of, half_life),
                )
            )
        after = rows[-1].id


def _rank(value: float, as_of: datetime | None, half_life: timedelta) -> float:
    # nurture.platform.decay.score_rank as it is at this revision (a migration never
    # imports code that may change after it).
    if value == 0 or as_of is None:
        return 0.0
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    key = max(math.log2(abs(value)) + as_of.timestamp() / half_life.total_seconds(), 1e-9)
    return key if value > 0 else -key


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_domain_pattern")
        batch_op.drop_index("ix_accounts_name_key")
        batch_op.drop_column("name_key")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for name in ("ix_leads_full_name_key_pattern", "ix_leads_name_key_pattern", "ix_leads_email_pattern",
                     "ix_leads_name_key_id", "ix_leads_score_rank_id", "ix_leads_last_activity_at_id",
                     "ix_leads_created_at_id"):
            batch_op.drop_index(name)
        for column in ("last_activity_at", "score_rank", "full_name_key", "name_key"):
            batch_op.drop_column(column)

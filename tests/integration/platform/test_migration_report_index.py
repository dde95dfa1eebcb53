"""Migration 9870: the index of leads by creation carries the fields the reports group by
(grade, account, source) on PostgreSQL, and a downgrade gives the plain index back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from nurture.platform import migrate
from nurture.platform.db import make_engine
from tests.conftest import BACKEND
from tests.integration.platform.test_migration_engagement import empty_database  # noqa: F401


def _by_creation(engine: Engine) -> dict[str, list[str]]:
    """The indexes of ``leads`` keyed on (created_at, id), with the columns they include."""
    found = {}
    for index in inspect(engine).get_indexes("leads"):
        options = index.get("dialect_options", {})
        if index["column_names"] != ["created_at", "id"] or any("where" in o for o in options):
            continue  # another key, or the lead list's index of the leads not erased
        found[str(index["name"])] = list(options.get("postgresql_include") or [])
    return found


def test_the_upgrade_adds_the_grouping_fields_and_the_downgrade_takes_them_away(
    empty_database,  # noqa: F811
):
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine)
        included = ["fit_grade", "account_id", "source"] if BACKEND == "postgresql" else []
        assert _by_creation(engine) == {"ix_leads_created_at_id_groups": included}

        config = migrate.alembic_config(empty_database)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "9820")
        assert _by_creation(engine) == {"ix_leads_created_at_id": []}

        migrate.upgrade(engine)
        migrate.check(engine)
        assert _by_creation(engine) == {"ix_leads_created_at_id_groups": included}
    finally:
        engine.dispose()

"""Fixtures the analytics tests share."""

from __future__ import annotations

import pytest
from alembic import command

from nurture.cli import cli
from nurture.platform import migrate
from nurture.platform.db import make_engine


@pytest.fixture
def db_command(app):  # type: ignore[no-untyped-def]
    """Run ``nurture db …`` (the roll-ups' rebuild and check) against the test's app."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(cli, ["db", *args])


@pytest.fixture
def migrate_again(database_url):  # type: ignore[no-untyped-def]
    """Step the test's database down to a revision and up to the head again: a roll-up's
    migration then fills it from the history already recorded."""

    def step_back_to(revision: str) -> None:
        engine = make_engine(database_url)
        try:
            config = migrate.alembic_config(database_url)
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, revision)
            migrate.upgrade(engine)
        finally:
            engine.dispose()

    return step_back_to

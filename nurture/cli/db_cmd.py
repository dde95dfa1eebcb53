"""Commands: ``nurture db upgrade`` and ``nurture db check``."""

from __future__ import annotations

import click

from nurture.cli.group import cli, runtime
from nurture.platform import migrate


@cli.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(revision: str) -> None:
    """Create or upgrade the schema to the newest migration."""
    rt = runtime()
    migrate.upgrade(rt.engine, revision)
    click.echo(f"database at {revision}: {rt.engine.url.render_as_string(hide_password=True)}")


@db_group.command("check")
def check_command() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check(runtime().engine)
    click.echo("models and migrations agree")

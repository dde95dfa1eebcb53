"""Commands: ``nurture db upgrade``, ``nurture db check`` and ``nurture db rebuild-rollups``."""

from __future__ import annotations

import click

from nurture.analytics import (
    campaign_entries,
    email_rollup_rebuild,
    first_touches,
    rollup,
    stage_entries,
    stay_columns,
)
from nurture.cli.group import cli, runtime
from nurture.platform import migrate
from nurture.platform.db import transaction


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


@db_group.command("rebuild-rollups")
@click.option(
    "--check", "check_only", is_flag=True, help="Only compare with history; exit 1 on a difference."
)
def rebuild_rollups_command(check_only: bool) -> None:
    """Recompute the reports' roll-up tables from history (idempotent).

    The first stage times, each stage change's stay and the stage entries are kept with
    every change, the first enrolments and the first touches by triggers on their history,
    the campaign results' roll-up by the worker's roll-up pass; rebuild them after loading
    history in bulk around the use cases, or prove they agree with it (--check; leads still
    queued for the pass differ until it runs)."""
    rt = runtime()
    if check_only:
        with rt.sessions() as session:
            differed = rollup.count_differences(session)
            entries_differed = campaign_entries.count_differences(session)
            stays_differed = stay_columns.count_differences(session)
            stage_entries_differed = stage_entries.count_differences(session)
            touches_differed = first_touches.count_differences(session)
            email_differed = email_rollup_rebuild.count_differences(session)
            queued = email_rollup_rebuild.queued_leads(session)
        click.echo(f"lead_stage_firsts: {differed} rows differ from the stage history")
        click.echo(f"campaign_entries: {entries_differed} rows differ from the enrolments")
        click.echo(f"stage_changes: {stays_differed} stays differ from the stage history")
        click.echo(f"stage_entries: {stage_entries_differed} rows differ from the stage history")
        click.echo(f"lead_first_touches: {touches_differed} rows differ from the events")
        for table, count in email_differed.items():
            click.echo(f"{table}: {count} rows differ from the messages")
        if queued:
            click.echo(
                f"email_rollup_queue: {queued} leads wait for the worker's roll-up pass"
                " (their emails differ until it runs)"
            )
        if (
            differed
            or entries_differed
            or stays_differed
            or stage_entries_differed
            or touches_differed
            or any(email_differed.values())
        ):
            raise SystemExit(1)
        return
    with transaction(rt.sessions) as session:
        rebuilt = rollup.rebuild_firsts(session)
        entries = campaign_entries.rebuild_entries(session)
        stays = stay_columns.rebuild_stays(session)
        entered = stage_entries.rebuild_stage_entries(session)
        touches = first_touches.rebuild_touches(session)
        emails = email_rollup_rebuild.rebuild_email_rollup(session)
    click.echo(
        f"lead_stage_firsts: {rebuilt.rows} rows recomputed from the stage history"
        f" ({rebuilt.differed} differed before)"
    )
    click.echo(
        f"campaign_entries: {entries.rows} rows recomputed from the enrolments"
        f" ({entries.differed} differed before)"
    )
    click.echo(
        f"stage_changes: {stays.rows} stays recomputed from the stage history"
        f" ({stays.differed} differed before)"
    )
    click.echo(
        f"stage_entries: {entered.rows} rows recomputed from the stage history"
        f" ({entered.differed} differed before)"
    )
    click.echo(
        f"lead_first_touches: {touches.rows} rows recomputed from the events"
        f" ({touches.differed} differed before)"
    )
    for table, rows in emails.rows.items():
        click.echo(
            f"{table}: {rows} rows recomputed from the messages"
            f" ({emails.differed[table]} differed before)"
        )

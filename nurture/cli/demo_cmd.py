"""Command: ``nurture demo`` — the whole product on the embedded default, in seconds."""

from __future__ import annotations

from collections import Counter

import click
from rich.console import Console
from rich.table import Table

from nurture.cli import cli, runtime
from nurture.db import utcnow
from nurture.demo import demo_settings, lead_rows, run_demo


@cli.command("demo")
@click.option(
    "--weeks",
    default=4,
    show_default=True,
    type=click.IntRange(1, 52),
    help="How many weeks to simulate.",
)
def demo_command(weeks: int) -> None:
    """Set up a fresh demo instance (SQLite + local outbox), load the bundled B2B campaign and
    sample leads, simulate WEEKS of nurturing hour by hour, and show what happened."""
    console = Console()
    settings = demo_settings(runtime().settings)
    console.print(f"[bold]Nurture demo[/] — instance {settings.instance_path}")
    result = run_demo(settings, weeks=weeks, today=utcnow(), on_progress=console.print)

    console.print(
        f"\nSimulated {result.start:%a %d %b %Y} → {result.end:%a %d %b %Y} "
        f"in {result.ticks} hourly ticks: {result.totals}"
    )
    console.print(
        f"Simulated reactions: {result.opens} human opens, {result.machine_opens} machine "
        f"opens (kept apart, not counted), {result.clicks} clicks."
    )
    for line in result.warmed:
        console.print(f"  warmed up: {line}")

    table = Table(title="Where each lead is", show_lines=False)
    for column in ("lead", "company", "timezone", "temp", "position", "emails received"):
        table.add_column(column)
    templates: Counter[str] = Counter()
    for row in lead_rows(settings):
        templates.update(row.emails)
        table.add_row(
            row.email,
            row.company,
            row.timezone,
            row.temperature,
            row.position,
            ", ".join(row.emails) or "—",
        )
    console.print(table)

    by_template = Table(title="Emails in the local outbox, by template")
    by_template.add_column("template")
    by_template.add_column("sent", justify="right")
    for template, count in sorted(templates.items()):
        by_template.add_row(template, str(count))
    console.print(by_template)

    env = f"NURTURE_INSTANCE_PATH={settings.instance_path}"
    console.print(
        "\nExplore the result (same instance):\n"
        f"  {env} .venv/bin/nurture outbox list\n"
        f"  {env} .venv/bin/nurture outbox open 1\n"
        f"  {env} .venv/bin/nurture leads list\n"
        f"  {env} .venv/bin/nurture campaigns list\n"
        f"Rejected sample rows (with reasons): {settings.instance_path / 'leads.rejects.csv'}"
    )

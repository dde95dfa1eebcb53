"""Command: ``nurture demo`` — the whole product on the embedded default, in seconds."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from nurture.cli.group import cli, runtime
from nurture.cli.serve_cmd import serve
from nurture.demo import (
    SalesSummary,
    create_demo_users,
    demo_settings,
    engagement_counts,
    handoff_rows,
    lead_rows,
    run_demo,
    sales_summary,
)
from nurture.models import Message
from nurture.platform.config import Settings
from nurture.platform.db import utcnow
from nurture.platform.runtime import Runtime


@cli.command("demo")
@click.option(
    "--weeks",
    default=4,
    show_default=True,
    type=click.IntRange(1, 52),
    help="How many weeks to simulate.",
)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="Serve the demo's web app afterwards, until Ctrl-C (--no-serve: for scripts).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Where to serve it.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def demo_command(weeks: int, serve: bool, host: str, port: int) -> None:
    """Set up a fresh demo instance (SQLite + local outbox), load the bundled B2B campaign,
    scoring model, ICP, readiness rule and sales team, import sample leads, simulate the last
    WEEKS of nurturing hour by hour (tracking, scoring, handoffs to sales), show what
    happened, then serve the demo's web app with an account for each role."""
    console = Console()
    settings = demo_settings(runtime().settings)
    if serve:
        # Links in the demo's emails (set-password, handoffs) lead to the server below.
        settings = settings.with_overrides(public_url=f"http://{host}:{port}")
    console.print(f"[bold]Nurture demo[/] — instance {settings.instance_path}")
    result = run_demo(settings, weeks=weeks, today=utcnow(), on_progress=console.print)

    console.print(
        f"\nSimulated {result.start:%a %d %b %Y} → {result.end:%a %d %b %Y} "
        f"in {result.ticks} hourly ticks: {result.totals}"
    )
    counts = engagement_counts(settings)
    human, machine = counts["human"], counts["machine"]
    hits = ", ".join(f"{count} {kind}" for kind, count in sorted(result.hits.items()))
    console.print(f"Tracking hits captured: {hits}. The processor made them events:")
    console.print(
        f"  human:   {human['email.opened']} opens, {human['email.clicked']} clicks, "
        f"{human['page.viewed']} page views, {human['demo.requested']} demo requests (scored)"
    )
    console.print(
        f"  machine: {machine['email.opened']} opens (mail privacy proxies), "
        f"{machine['email.clicked']} clicks (link scanners) — kept apart, never scored"
    )
    for line in result.demo_requests:
        console.print(f"  hand-raiser: {line}")

    table = Table(title="Where each lead is", show_lines=False)
    for column in ("lead", "company", "temp", "stage", "position", "emails received"):
        table.add_column(column)
    templates: Counter[str] = Counter()
    for row in lead_rows(settings):
        templates.update(row.emails)
        table.add_row(
            row.email,
            row.company,
            row.temperature,
            row.stage,
            row.position,
            ", ".join(row.emails) or "—",
        )
    console.print(table)

    handoffs = handoff_rows(settings)
    listing = Table(title="nurture handoffs list — leads handed to sales")
    for column in ("id", "created (UTC)", "lead", "owner", "why", "status", "SLA"):
        listing.add_column(column)
    for handoff in handoffs:
        listing.add_row(
            str(handoff.id),
            f"{handoff.created_at:%a %d %b %H:%M}",
            f"{handoff.lead}\n{handoff.company}",
            handoff.owner,
            handoff.why,
            handoff.status,
            handoff.sla,
        )
    console.print(listing if handoffs else "[yellow]No lead was handed to sales.[/]")
    for line in result.sales:
        console.print(f"  sales: {line}")
    console.print(_sales_line(sales_summary(settings, result.end)))

    by_kind = Counter(message_kind for message_kind in _outbox_kinds(settings))
    by_template = Table(title="Emails in the local outbox, by template")
    by_template.add_column("template")
    by_template.add_column("sent", justify="right")
    for template, count in sorted(by_kind.items()):
        by_template.add_row(template, str(count))
    console.print(by_template)

    # The demo's instance runs on simulated time: later commands on it keep to its clock.
    env = f"NURTURE_INSTANCE_PATH={settings.instance_path} NURTURE_SIMULATED_TIME=1"
    domain = next((row.lead.split("@")[1] for row in handoffs), "northwind-logistics.example")
    console.print(
        "\nExplore the result (same instance):\n"
        f"  {env} .venv/bin/nurture handoffs list\n"
        f"  {env} .venv/bin/nurture handoffs list --status offered\n"
        f"  {env} .venv/bin/nurture accounts show {domain} --now {result.end:%Y-%m-%dT%H:%M}\n"
        f"  {env} .venv/bin/nurture sla report --days 3650\n"
        f"  {env} .venv/bin/nurture outbox list\n"
        f"  {env} .venv/bin/nurture outbox open 1\n"
        f"  {env} .venv/bin/nurture leads show {handoffs[0].lead if handoffs else 'EMAIL'}\n"
        f"Rejected sample rows (with reasons): {settings.instance_path / 'leads.rejects.csv'}\n"
        "Try a branch on simulated time (docs/tracking.md#simulated-time): move the clock,\n"
        "click a link of the new email while the web app runs, and tick again:\n"
        f"  {env} .venv/bin/nurture tick --now {result.end + timedelta(days=3):%Y-%m-%dT10:00}"
    )
    if serve:
        _serve(console, settings, host, port)


def _serve(console: Console, settings: Settings, host: str, port: int) -> None:
    rt = Runtime.from_settings(settings)
    try:
        logins, password = create_demo_users(rt, now=utcnow())
    finally:
        rt.close()
    table = Table(title=f"The web app: http://{host}:{port} — sign in as")
    for column in ("role", "email", "password"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role, login.email, password)
    console.print(table)
    console.print("Press Ctrl-C to stop the server (the demo instance stays on disk).")
    serve(host=host, port=port, workers=1, threads=8, settings=settings)


def _sales_line(summary: SalesSummary) -> str:
    """Where the handoffs stand at the end, in one sentence."""
    won = ", ".join(f"{currency} {value:,.0f}" for currency, value in summary.won_value.items())
    return (
        f"Sales at the end: {summary.handoffs} handoffs — {summary.waiting} waiting for a rep "
        f"({summary.late} past the deadline), {summary.open} accepted and open, "
        f"{summary.won} won{f' ({won})' if won else ''}, {summary.lost} lost, "
        f"{summary.rejected} rejected (back to nurture), {summary.reassigned} reassigned."
    )


def _outbox_kinds(settings: Settings) -> list[str]:
    rt = Runtime.from_settings(settings)
    try:
        with rt.sessions() as session:
            return list(session.scalars(select(Message.template).where(Message.status == "sent")))
    finally:
        rt.close()

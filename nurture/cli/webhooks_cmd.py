"""Commands: ``nurture webhooks list|show|retry`` — the outgoing webhook delivery log."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from nurture.cli.group import cli, runtime
from nurture.handoff.webhooks import list_deliveries, retry
from nurture.models import WebhookDelivery
from nurture.platform.db import transaction, utcnow

STATUSES = ("pending", "delivered", "failed")
_STYLE = {"delivered": "green", "pending": "yellow", "failed": "bold red"}


@cli.group("webhooks")
def webhooks_group() -> None:
    """Signed webhooks sent for handoff events (NURTURE_WEBHOOK_URLS)."""


@webhooks_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only deliveries in this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """Deliveries, newest first: event, endpoint, status, attempts, last answer."""
    settings = runtime().settings
    console = Console()
    if not settings.webhook_urls:
        console.print("[dim]No endpoint configured (NURTURE_WEBHOOK_URLS); nothing is sent.[/]")
    with runtime().sessions() as session:
        rows = list_deliveries(session, status=status, limit=limit)
        table = Table(title=f"webhook deliveries{f' ({status})' if status else ''}")
        for column in ("id", "created (UTC)", "event", "handoff", "endpoint", "status", "tries"):
            table.add_column(column)
        table.add_column("last answer")
        for row in rows:
            table.add_row(
                str(row.id),
                f"{row.created_at:%Y-%m-%d %H:%M}",
                row.event,
                str(row.handoff_id or ""),
                row.url,
                f"[{_STYLE[row.status]}]{row.status}[/]",
                str(row.attempts),
                _answer(row),
            )
        console.print(table)


def _answer(row: WebhookDelivery) -> str:
    if row.last_attempt_at is None:
        return "not tried yet"
    parts = [str(row.response_code) if row.response_code else "no answer"]
    if row.duration_ms is not None:
        parts.append(f"{row.duration_ms} ms")
    if row.status == "pending" and row.next_attempt_at:
        parts.append(f"next {row.next_attempt_at:%m-%d %H:%M}")
    excerpt = (row.response_excerpt or "").replace("\n", " ")[:60]
    return ", ".join(parts) + (f" — {excerpt}" if excerpt and row.status != "delivered" else "")


@webhooks_group.command("show")
@click.argument("delivery_id", type=int)
def show_command(delivery_id: int) -> None:
    """One delivery: its attempts, last answer and the exact JSON sent."""
    with runtime().sessions() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:
            raise click.ClickException(f"no webhook delivery {delivery_id}")
        click.echo(f"delivery {row.id}: {row.event} ({row.event_id}) → {row.url}")
        click.echo(f"  status {row.status}, {row.attempts} attempt(s); last answer {_answer(row)}")
        if row.response_excerpt:
            click.echo(f"  answer: {row.response_excerpt}")
        click.echo(json.dumps(json.loads(row.body), indent=2, ensure_ascii=False))


@webhooks_group.command("retry")
@click.argument("delivery_id", type=int)
def retry_command(delivery_id: int) -> None:
    """Send a pending or failed delivery again at the next worker pass (or `nurture tick`)."""
    with transaction(runtime().sessions) as session:
        try:
            row = retry(session, delivery_id, utcnow())
        except (LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"delivery {row.id} ({row.event} → {row.url}) is due now; "
            "the worker sends it within seconds (or run `nurture tick`)"
        )

"""Commands: ``nurture costs list``, ``validate`` and ``sync`` — marketing costs from the
costs file and the app (docs/costs.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nurture.analytics.costs import list_costs, sync_costs_file
from nurture.analytics.costs.entries import CostFieldError, parse_month_range
from nurture.analytics.costs.parser import load_costs_file
from nurture.cli.group import cli, runtime, valid_or_exit
from nurture.cli.report_cmd import FORMATS, print_table, write_csv
from nurture.platform.db import utcnow

HEADER = ["id", "month", "source", "campaign", "amount", "currency", "origin", "file", "note"]


@cli.group("costs")
def costs_group() -> None:
    """Marketing costs per month, source and campaign: the costs file and the app's entries."""


@costs_group.command("list")
@click.option("--from", "start", metavar="MONTH", help="First month listed (YYYY-MM).")
@click.option("--to", "end", metavar="MONTH", help="First month NOT listed (YYYY-MM).")
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
def list_command(start: str | None, end: str | None, output: str) -> None:
    """Every cost entry of the months [--from, --to), from the file and the app."""
    try:
        first, last = parse_month_range(start, end)
    except CostFieldError as error:
        raise click.UsageError(
            "; ".join(f"--{name}: {why}" for name, why in error.errors.items())
        ) from None
    with runtime().sessions() as session:
        entries = list_costs(session, start=first, end=last)
    if output == "json":
        click.echo(json.dumps({"costs": [entry.as_dict() for entry in entries]}, indent=2))
        return
    rows = [
        [
            entry.id,
            entry.month,
            entry.source,
            entry.campaign,
            str(entry.amount),
            entry.currency,
            entry.origin,
            entry.as_dict()["file"],
            entry.note,
        ]
        for entry in entries
    ]
    if output == "csv":
        write_csv(HEADER, rows)
        return
    shown = [["" if cell is None else str(cell) for cell in row] for row in rows]
    print_table(f"costs: {len(entries)} entries", HEADER, shown)


@costs_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate_command(path: Path | None) -> None:
    """Check a costs file (default: NURTURE_COSTS_FILE) without touching the database.

    Prints every problem as FILE:LINE: MESSAGE and exits with status 1 if there is any.
    """
    target = path or runtime().settings.costs_file
    costs = valid_or_exit(target, load_costs_file(target))
    click.echo(f"ok   {target}: {len(costs.entries)} entries in {costs.currency}")


@costs_group.command("sync")
def sync_command() -> None:
    """Load the costs file into the database (a new version when it changed; its entries
    replace the previous file's). A broken file leaves the previous version active and
    exits with status 1."""
    report = sync_costs_file(runtime(), now=utcnow())
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)

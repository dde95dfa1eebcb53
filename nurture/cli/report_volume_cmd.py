"""Command: ``nurture report volume`` — new leads per day, ISO week or month of the period
(docs/analytics.md, "Volume"), as a table, CSV or JSON."""

from __future__ import annotations

import json

import click

from nurture.analytics import FilterError
from nurture.analytics.costs import INTERVALS, volume_report, volume_table
from nurture.cli.group import runtime
from nurture.cli.report_cmd import (
    print_table,
    report_filter,
    report_group,
    report_options,
    show_cell,
    usage_reasons,
    write_csv,
)


@report_group.command("volume")
@report_options
@click.option(
    "--interval",
    type=click.Choice(INTERVALS),
    default="month",
    show_default=True,
    help="One row per day, ISO week (starting Monday) or month.",
)
def volume_command(output: str, interval: str, **args: str | None) -> None:
    """New leads (created in the period, distinct) per day, week or month, per group.
    The period is [--from, --to); a week is named by its Monday."""
    report = report_filter(args)
    with runtime().sessions() as session:
        try:
            result = volume_report(session, report, interval)
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    header, rows = volume_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        shown = [[show_cell(cell) for cell in row] for row in rows]
        title = f"new leads per {interval}, {report.start} to {report.end} (end not included)"
        print_table(title, header, shown)

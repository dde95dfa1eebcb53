"""Commands: ``nurture report funnel|cohorts|velocity`` — the funnel and velocity from
history (docs/analytics.md), as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from nurture.analytics import (
    COUNTS,
    GROUP_BY,
    MEASURES,
    RATES,
    VELOCITY_GROUP_BY,
    FilterError,
    FunnelReport,
    ReportFilter,
    VelocityReport,
    cohort_report,
    funnel_report,
    parse_filter,
    velocity_report,
)
from nurture.analytics.definitions import WINDOWS
from nurture.analytics.funnel import REACHED
from nurture.analytics.tables import Cell, cohort_table, funnel_table, velocity_table
from nurture.cli.group import cli, runtime
from nurture.platform.csv_safety import safe_row
from nurture.platform.db import utcnow

FORMATS = ("table", "csv", "json")


@cli.group("report")
def report_group() -> None:
    """Reports computed from history: the funnel, its cohorts, and velocity."""


def report_options(
    command: Callable[..., Any], groupings: tuple[str, ...] = GROUP_BY
) -> Callable[..., Any]:
    """The period, filters, grouping (one of ``groupings``) and format every report takes."""
    options = [
        click.option("--from", "start", metavar="DATE", help="First day (YYYY-MM-DD or YYYY-MM)."),
        click.option(
            "--to", "end", metavar="DATE", help="First day NOT counted [default: next month]."
        ),
        click.option("--by", "group_by", metavar="DIMENSION", help=f"{', '.join(groupings)}."),
        click.option("--source", help="Only leads with this source."),
        click.option("--campaign", help="Only leads enrolled in this campaign (its key)."),
        click.option("--owner", help="Only leads whose latest handoff went to this rep (email)."),
        click.option("--grade", help="Only leads with this fit grade now (A-D)."),
        click.option("--segment", help="Only leads whose account is in this segment."),
        click.option(
            "--format", "output", type=click.Choice(FORMATS), default="table", show_default=True
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def velocity_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``report_options`` whose ``--by`` also takes ``cohort``."""
    return report_options(command, VELOCITY_GROUP_BY)


def report_filter(
    args: dict[str, str | None], groupings: tuple[str, ...] = GROUP_BY
) -> ReportFilter:
    """The report's ``ReportFilter`` from the options, or a usage error naming each bad one."""
    try:
        return parse_filter(today=utcnow().date(), groupings=groupings, **args)
    except FilterError as error:
        raise click.UsageError(usage_reasons(error)) from None


def usage_reasons(error: FilterError) -> str:
    """A ``FilterError`` as the CLI says it: ``--name: why; …``."""
    return "; ".join(f"--{name}: {why}" for name, why in error.errors.items())


@report_group.command("funnel")
@report_options
def funnel_command(output: str, **args: str | None) -> None:
    """Leads created, entering MQL, SAL, SQL, opportunity and won, and deals lost in the
    period (distinct leads), with the conversion rates. The period is [--from, --to)."""
    report = report_filter(args)
    with runtime().sessions() as session:
        try:
            result = funnel_report(session, report)
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    header, rows = funnel_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        _print_funnel(result, f"funnel {report.start} to {report.end} (end not included)")


def _print_funnel(result: FunnelReport, title: str) -> None:
    # Stages down, groups across: a funnel reads top to bottom, and a dozen groups still
    # fit a terminal where fourteen figures per group would not.
    groups = [row.group or "-" for row in result.rows] if result.filter.group_by else ["all"]
    into = {top: name for name, top, bottom in RATES if bottom != "closed"}
    lines: list[list[str]] = []
    for count in COUNTS:
        cells = [count]
        for row in result.rows:
            rate = row.rates.get(into[count]) if count in into else None
            shown = f" ({show_cell(rate)})" if rate is not None else ""
            cells.append(str(row.counts[count]) + shown)
        lines.append(cells)
    lines.append(["win rate", *(show_cell(row.rates["win_rate"]) for row in result.rows)])
    print_table(title, ["", *groups], lines)


@report_group.command("cohorts")
@report_options
def cohorts_command(output: str, **args: str | None) -> None:
    """For the leads created in each month of the period: how many reached each stage by
    now, and within 30/60/90 days of their creation."""
    report = report_filter(args)
    with runtime().sessions() as session:
        try:
            result = cohort_report(session, report)
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    header, rows = cohort_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        # One cell per stage: "by now (30d/60d/90d)", so the table fits a terminal.
        width = 1 + len(WINDOWS)
        table_header = ["month", "group", "created", *REACHED]
        table_rows = []
        for row in rows:
            reached = row[3:]
            cells = [show_cell(cell) for cell in row[:3]]
            for i in range(len(REACHED)):
                by_now, *within = reached[i * width : (i + 1) * width]
                cells.append(f"{by_now} ({'/'.join(str(v) for v in within)})")
            table_rows.append(cells)
        title = (
            f"cohorts {report.start} to {report.end}: reached by now "
            f"({'/'.join(f'{d}d' for d in WINDOWS)})"
        )
        print_table(title, table_header, table_rows)


@report_group.command("velocity")
@velocity_options
def velocity_command(output: str, **args: str | None) -> None:
    """How long leads stayed in each stage (stays that ended in the period), the sales
    cycle (first touch to won, for leads won in the period) and the time from a handoff's
    offer to the first sales action (offers made in the period): count, median, p75, p90
    in days. --by also takes cohort (the month each lead was created)."""
    report = report_filter(args, VELOCITY_GROUP_BY)
    with runtime().sessions() as session:
        try:
            result = velocity_report(session, report)
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    header, rows = velocity_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        _print_velocity(
            result,
            f"velocity {report.start} to {report.end} (end not included): "
            "count: median / p75 / p90 days",
        )


def _print_velocity(result: VelocityReport, title: str) -> None:
    # Measures down, groups across, like the funnel: one cell holds a measure's figures.
    groups = [row.group or "-" for row in result.rows] if result.filter.group_by else ["all"]
    lines: list[list[str]] = []
    for name in MEASURES:
        cells = [name.replace("_", " ")]
        for row in result.rows:
            figures = row.measures[name]
            spread = " / ".join(_days(v) for v in (figures.median, figures.p75, figures.p90))
            waiting = f" (+{figures.waiting} waiting)" if figures.waiting else ""
            cells.append(f"{figures.count}: {spread}{waiting}")
        lines.append(cells)
    print_table(title, ["", *groups], lines)


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def show_cell(cell: Cell) -> str:
    """A table cell as printed: ``-`` for nothing, a fraction as a percentage."""
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:.1%}"
    return str(cell)


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A titled terminal table (rich); cells are shown as text, never as markup."""
    table = Table()
    for column in header:
        left = column in ("", "group", "month")
        table.add_column(column, justify="left" if left else "right")
    for row in rows:
        # Text: a group value such as "[red]" is data, not rich markup.
        table.add_row(*(Text(cell) for cell in row))
    console = Console()
    console.print(Text(title))
    console.print(table)


def write_csv(header: list[str], rows: list[list[Cell]]) -> None:
    """The table as CSV on stdout, every cell safe from formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(safe_row("" if cell is None else cell for cell in row))
    click.echo(buffer.getvalue(), nl=False)

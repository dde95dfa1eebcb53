"""Command: ``nurture report costs`` — cost, leads, MQLs and customers per group, and the
cost per each (docs/analytics.md, "Cost per lead, MQL and customer")."""

from __future__ import annotations

import json

import click

from nurture.analytics import FilterError
from nurture.analytics.costs import cost_report, cost_table
from nurture.analytics.costs.entries import money
from nurture.analytics.tables import Cell
from nurture.cli.group import runtime
from nurture.cli.report_cmd import (
    print_table,
    report_filter,
    report_group,
    report_options,
    usage_reasons,
    write_csv,
)

# Counts are whole numbers; every other figure is money, shown to the cent.
_COUNTS = ("leads", "mql", "customers")


@report_group.command("costs")
@report_options
def costs_command(output: str, **args: str | None) -> None:
    """Per group: the cost of the period (whole months shared by days), the leads created,
    MQLs and customers (the funnel's leads, mql and won) and the cost per lead, MQL and
    customer (empty when there were none). Costs come from the costs file and the app."""
    report = report_filter(args)
    with runtime().sessions() as session:
        try:
            result = cost_report(session, report)
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    header, rows = cost_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        shown = [
            [_show(name, cell) for name, cell in zip(header, row, strict=True)] for row in rows
        ]
        total = f"{money(result.total_cost):,.2f}"
        title = (
            f"costs {report.start} to {report.end} (end not included), in "
            f"{result.currency or '-'}: total {total}"
        )
        print_table(title, header, shown)


def _show(column: str, cell: Cell) -> str:
    if cell is None:
        return "-"
    if column == "group" or column in _COUNTS:
        return str(cell)
    return f"{float(cell):,.2f}"

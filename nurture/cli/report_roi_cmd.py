"""Command: ``nurture report roi`` — per campaign or source, the cost of the period against
the revenue credited to it under an attribution model, with ROI and ROAS (docs/analytics.md,
"ROI")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from nurture.analytics import FilterError
from nurture.analytics.attribution import parse_lookback
from nurture.analytics.clv import parse_currency
from nurture.analytics.roi import ROI_BY, roi_report, roi_table, with_default_grouping
from nurture.analytics.roi import parse_model as parse_roi_model
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


def _roi_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return report_options(command, ROI_BY)


@report_group.command("roi")
@_roi_options
@click.option("--model", metavar="MODEL", help="first, last, linear, u-shaped or all [u-shaped].")
@click.option("--lookback", metavar="DAYS", help="Touches this many days before the win [365].")
@click.option("--currency", metavar="CODE", help="Report in this currency [default: the team's].")
def roi_command(
    output: str,
    model: str | None,
    lookback: str | None,
    currency: str | None,
    **args: str | None,
) -> None:
    """Per --by campaign (default) or source: the cost of the period [--from, --to) (as
    `nurture report costs`), the revenue of the deals won in it credited to the group's
    touches (as `nurture report attribution`), ROI = (revenue - cost) / cost and ROAS =
    revenue / cost (empty when the cost is 0), and the total."""
    report = with_default_grouping(report_filter(args, ROI_BY), args.get("group_by"))
    try:
        models = parse_roi_model(model)
        days = parse_lookback(lookback)
        code = parse_currency(currency)
        with runtime().sessions() as session:
            result = roi_report(session, report, models=models, lookback_days=days, currency=code)
    except FilterError as error:
        raise click.UsageError(usage_reasons(error)) from None
    header, rows = roi_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        total = result.total
        title = (
            f"ROI {report.start} to {report.end} (end not included), in {result.currency}: "
            f"cost {total.cost:,.2f}, {total.deals} deals won"
            + "".join(
                f"; apart: {figures['deals']} deals, {figures['revenue']} {code_}"
                for code_, figures in result.other_currencies.items()
            )
        )
        shown = [
            [_show(name, cell) for name, cell in zip(header, row, strict=True)] for row in rows
        ]
        print_table(title, header, shown)


def _show(column: str, cell: Cell) -> str:
    if cell is None:
        return "-"
    if column.endswith("_roi") and isinstance(cell, float):
        return f"{cell:+.1%}"
    if column.endswith("_roas") and isinstance(cell, float):
        return f"{cell:.2f}x"
    return str(cell)

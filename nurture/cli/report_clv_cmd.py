"""Command: ``nurture report clv`` — customer lifetime value: per customer its revenue to
date, and the average by source, segment or any other grouping (docs/analytics.md,
"Revenue and CLV")."""

from __future__ import annotations

import json

import click

from nurture.analytics import FilterError
from nurture.analytics.clv import clv_report, clv_table, customer_table, parse_currency
from nurture.cli.group import runtime
from nurture.cli.report_cmd import (
    print_table,
    report_filter,
    report_group,
    report_options,
    usage_reasons,
    write_csv,
)
from nurture.platform.db import utcnow


@report_group.command("clv")
@report_options
@click.option("--currency", metavar="CODE", help="Report in this currency [default: the team's].")
@click.option("--customers", is_flag=True, help="List each customer instead of the groups.")
def clv_command(output: str, currency: str | None, customers: bool, **args: str | None) -> None:
    """The customers won in the period [--from, --to): revenue to date (won deals and
    revenue entries booked before --to), months as customer, and the average CLV per
    group. Amounts in another currency are listed apart, never summed."""
    report = report_filter(args)
    try:
        code = parse_currency(currency)
    except FilterError as error:
        raise click.UsageError(usage_reasons(error)) from None
    with runtime().sessions() as session:
        try:
            result = clv_report(session, report, currency=code, now=utcnow())
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    header, rows = customer_table(result) if customers else clv_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        what = "customers" if customers else "customer lifetime value"
        print_table(
            f"{what} {report.start} to {report.end} (end not included), in {result.currency}",
            header,
            [["-" if cell is None else str(cell) for cell in row] for row in rows],
        )

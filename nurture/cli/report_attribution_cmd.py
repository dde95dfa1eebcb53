"""Command: ``nurture report attribution`` — won revenue credited to the touches before
each win under the first-touch, last-touch, linear and U-shaped models; ``--deal`` explains
one deal (docs/analytics.md, "Attribution")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from nurture.analytics import FilterError
from nurture.analytics.attribution import (
    ATTRIBUTION_BY,
    attribution_report,
    attribution_table,
    deal_table,
    explain_deal,
    parse_deal,
    parse_lookback,
    parse_models,
)
from nurture.analytics.clv import parse_currency
from nurture.cli.group import runtime
from nurture.cli.report_cmd import (
    print_table,
    report_filter,
    report_group,
    report_options,
    usage_reasons,
    write_csv,
)


def _attribution_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return report_options(command, ATTRIBUTION_BY)


@report_group.command("attribution")
@_attribution_options
@click.option("--model", metavar="MODEL", help="first, last, linear, u-shaped or all [all].")
@click.option("--lookback", metavar="DAYS", help="Touches this many days before the win [365].")
@click.option("--currency", metavar="CODE", help="Report in this currency [default: the team's].")
@click.option("--deal", metavar="HANDOFF_ID", help="Explain this won deal's credit.")
def attribution_command(
    output: str,
    model: str | None,
    lookback: str | None,
    currency: str | None,
    deal: str | None,
    **args: str | None,
) -> None:
    """Revenue of the deals won in the period [--from, --to) credited to the touches
    before each win (the lead's clicks on campaign emails, pages, forms, and its source),
    per --by campaign, source or channel; --deal lists one deal's touches with each
    model's share."""
    report = report_filter(args, ATTRIBUTION_BY)
    try:
        models = parse_models(model)
        days = parse_lookback(lookback)
        code = parse_currency(currency)
        handoff_id = parse_deal(deal)
        with runtime().sessions() as session:
            if handoff_id is not None:
                credit = explain_deal(session, handoff_id, models=models, lookback_days=days)
                header, rows = deal_table(credit)
                body = credit.as_dict()
                title = (
                    f"deal {credit.handoff_id}: {credit.value:.2f} {credit.currency} won "
                    f"{credit.won_at:%Y-%m-%d} by {credit.lead}"
                    + (f" ({credit.account})" if credit.account else "")
                )
            else:
                result = attribution_report(
                    session, report, models=models, lookback_days=days, currency=code
                )
                header, rows = attribution_table(result)
                body = result.as_dict()
                title = (
                    f"attribution {report.start} to {report.end} (end not included): "
                    f"{result.deals} deals, {result.revenue:.2f} {result.currency}"
                    + "".join(
                        f"; apart: {figures['deals']} deals, {figures['revenue']} {code_}"
                        for code_, figures in result.other_currencies.items()
                    )
                )
    except FilterError as error:
        raise click.UsageError(usage_reasons(error)) from None
    if output == "json":
        click.echo(json.dumps(body, indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        shown = [
            [
                "-" if cell is None else f"{cell:.1%}" if isinstance(cell, float) else str(cell)
                for cell in row
            ]
            for row in rows
        ]
        print_table(title, header, shown)

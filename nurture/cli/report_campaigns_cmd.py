"""Command: ``nurture report campaigns`` — email and campaign results (docs/analytics.md,
"Email and campaign results"), compared with another period or between two versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from nurture.analytics import FilterError
from nurture.analytics.campaign_results import (
    CampaignResultsReport,
    campaign_results,
    campaign_results_table,
)
from nurture.analytics.email_results import CAMPAIGN_GROUP_BY, parse_comparison, rate_change
from nurture.cli.group import runtime
from nurture.cli.report_cmd import (
    print_table,
    report_filter,
    report_group,
    report_options,
    show_cell,
    write_csv,
)

# The figures the terminal table shows (every figure is in CSV and JSON).
_SHOWN = (
    ("sent", "sent"),
    ("delivered", "delivered"),
    ("hard_bounced", "hard bounces"),
    ("soft_bounced", "soft bounces"),
    ("opened", "opened"),
    ("machine_opened", "machine opens"),
    ("clicked", "clicked"),
    ("clicks", "clicks"),
    ("machine_clicked", "scanner clicks"),
    ("unsubscribed", "unsubscribed"),
    ("complained", "complaints"),
    ("conversions", "conversions"),
)
_SHOWN_RATES = (
    ("bounce_rate", "bounce rate"),
    ("open_rate", "open rate"),
    ("click_rate", "click rate"),
    ("click_to_open", "click-to-open"),
    ("unsubscribe_rate", "unsubscribe rate"),
    ("complaint_rate", "complaint rate"),
    ("conversion_rate", "conversion rate"),
)


def _campaign_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return report_options(command, CAMPAIGN_GROUP_BY)


@report_group.command("campaigns")
@_campaign_options
@click.option("--compare-from", metavar="DATE", help="First day of a period to compare with.")
@click.option("--compare-to", metavar="DATE", help="First day NOT counted of that period.")
@click.option(
    "--versions", metavar="A,B", help="Compare version B of --campaign with its version A."
)
@click.option(
    "--all-mail",
    is_flag=True,
    help="Count every email, not only campaign email (notifications, auto-replies …).",
)
def campaigns_command(
    output: str,
    compare_from: str | None,
    compare_to: str | None,
    versions: str | None,
    all_mail: bool,
    **args: str | None,
) -> None:
    """Per campaign (--by step, template, version, or a lead's dimension or month): the
    emails sent in the period, delivered, bounced hard and soft, opened and clicked by
    people (machine opens and scanner clicks apart), unsubscribes, complaints and
    conversions to the campaign's goal, with their rates. The period is [--from, --to)."""
    # Per campaign unless asked otherwise (--by none: all campaigns together).
    args["group_by"] = args.get("group_by") or "campaign"
    report = report_filter(args, CAMPAIGN_GROUP_BY)
    try:
        comparison = parse_comparison(
            compare_from=compare_from,
            compare_to=compare_to,
            versions=versions,
            campaign=report.campaign,
            group_by=report.group_by,
        )
        with runtime().sessions() as session:
            result = campaign_results(session, report, comparison, all_mail=all_mail)
    except FilterError as error:
        raise click.UsageError(
            "; ".join(f"--{name.replace('_', '-')}: {why}" for name, why in error.errors.items())
        ) from None
    header, rows = campaign_results_table(result)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        write_csv(header, rows)
    else:
        _print_results(result)


def _print_results(result: CampaignResultsReport) -> None:
    # Figures down, campaigns and groups across, like the funnel; with a comparison each
    # cell reads "figure (baseline, change)".
    report = result.filter
    title = f"campaigns {report.start} to {report.end} (end not included)"
    if result.comparison is not None:
        if result.comparison.versions is not None:
            first, second = result.comparison.versions
            title += f": version {second} compared with version {first}"
        else:
            title += (
                f" compared with {result.comparison.start} to {result.comparison.end}"
                " (figure (baseline, change))"
            )
    if not result.rows:
        click.echo(f"{title}: no email was sent in the period.")
        return
    columns = []
    for row in result.rows:
        name = row.campaign or ("all" if report.group_by is None else "-")
        if report.group_by not in (None, "campaign"):
            name += f" · {row.group or '-'}"
        columns.append(name)
    lines: list[list[str]] = []
    for name, label in _SHOWN:
        cells = [label]
        for row in result.rows:
            value = row.results.figures()[name]
            if row.baseline is not None:
                base = row.baseline.figures()[name]
                cells.append(f"{value} ({base}, {value - base:+d})")
            else:
                cells.append(str(value))
        lines.append(cells)
    for name, label in _SHOWN_RATES:
        cells = [label]
        for row in result.rows:
            share = row.results.rates()[name]
            if row.baseline is not None:
                baseline_rate = row.baseline.rates()[name]
                points = rate_change(share, baseline_rate)["points"]
                moved = "-" if points is None else f"{points:+.1f} pp"
                cells.append(f"{show_cell(share)} ({show_cell(baseline_rate)}, {moved})")
            else:
                cells.append(show_cell(share))
        lines.append(cells)
    print_table(title, ["", *columns], lines)


# The shared options speak of leads; here --campaign picks the emails, and --by has a default.
for _option in campaigns_command.params:
    if _option.name == "campaign" and isinstance(_option, click.Option):
        _option.help = "Only this campaign's emails (its key)."
    elif _option.name == "group_by" and isinstance(_option, click.Option):
        _option.help = f"{', '.join(CAMPAIGN_GROUP_BY)} or none [default: campaign]."

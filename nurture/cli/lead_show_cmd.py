"""Command: ``nurture leads show EMAIL`` — profile, score explained, temperature, timeline.

It lives in its own module and adds itself to the ``leads`` group, so the lead commands
other issues add (export, erase) and this one do not edit the same lines.
"""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from nurture.cli.group import cli, runtime
from nurture.cli.leads_cmd import leads_group
from nurture.cli.timestamps import parse_timestamp
from nurture.scoring.parser import half_life_text
from nurture.scoring.report import LeadReport, lead_report
from nurture.tracking.clock import instance_now

_ = cli  # the group this command joins is registered on ``cli``


@leads_group.command("show")
@click.argument("ref", metavar="EMAIL_OR_ID")
@click.option("--events", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option(
    "--now",
    "now_text",
    metavar="TIMESTAMP",
    help="Score as of this time (ISO 8601; default: the instance's now).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead.")
def show_command(ref: str, events: int, now_text: str | None, as_json: bool) -> None:
    """Show one lead: profile, score with its explanation, temperature, and timeline.

    The explanation lists, per scoring rule, how many events it scored and what they are
    worth now after caps and decay; the rule totals add up to the score. Machine hits
    (privacy proxies, link scanners) are listed on the timeline, marked, and never scored.
    """
    # Default: the instance's now, which is the simulated clock's on a simulated-time instance.
    now = parse_timestamp(now_text) if now_text is not None else instance_now(runtime())
    with runtime().sessions() as session:
        report = lead_report(session, ref, now, events=events)
    if report is None:
        raise click.ClickException(f"no lead with id or email {ref!r}")
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
        return
    _print(report)


def _print(report: LeadReport) -> None:
    console = Console(highlight=False)
    p = report.profile
    console.print(f"[bold]{p['name']}[/bold] <{p['email']}>  (lead {p['id']})")
    for label, key in (
        ("title", "title"),
        ("account", "account"),
        ("stage", "stage"),
        ("consent", "consent"),
        ("timezone", "timezone"),
        ("source", "source"),
        ("created", "created_at"),
    ):
        if p.get(key):
            console.print(f"  {label:<10} {p[key]}", markup=False)
    console.print()

    score = report.score
    if score is None:
        console.print(
            f"score      {report.stored_score:.1f} ({report.temperature}); no scoring model is "
            "active: run `nurture scoring sync`"
        )
    else:
        explanation = score.explanation
        model = f"{score.model_name} v{score.version}"
        console.print(
            f"[bold]score {explanation.score:.1f}[/bold]  temperature "
            f"[bold]{report.temperature}[/bold]  ({model}; half-life "
            f"{half_life_text(explanation.half_life)}; warm ≥ {report.bands[0]:g}, "
            f"hot ≥ {report.bands[1]:g})"
        )
        if score.hand_raised_at is not None:
            console.print(f"  hand raised {score.hand_raised_at:%Y-%m-%d %H:%M} UTC")
        if report.stale_note:
            console.print(f"  note: {report.stale_note}")
        table = Table("rule", "event", "each", "events", "awarded", "capped", "now")
        for part in explanation.rules:
            table.add_row(
                part.rule.id + (" *" if part.rule.hand_raiser else ""),
                part.rule.event,
                f"{part.rule.points:+g}",
                str(part.events),
                f"{part.awarded:+.1f}",
                f"{part.capped:.1f}" if part.capped else "",
                f"{part.now:+.1f}",
            )
        table.add_section()
        table.add_row("total", "", "", "", "", "", f"{explanation.score:.1f}")
        if explanation.rules:
            console.print(table)
            if any(part.rule.hand_raiser for part in explanation.rules):
                console.print("  * hand-raiser rule")
        else:
            console.print("  no scored events")
    console.print()

    # Plain lines rather than a table: URLs and reasons stay readable in a narrow terminal.
    console.print("[bold]timeline[/bold] (newest first, UTC)")
    for entry in report.timeline:
        line = f"  {entry.occurred_at:%Y-%m-%d %H:%M}  {entry.type:<20} {entry.summary()}"
        if entry.is_machine:
            reasons = "; ".join(entry.machine_reasons) or "machine"
            line += f"  [machine, not scored: {reasons}]"
        elif entry.rule is not None and entry.points:
            line += f"  {entry.points:+g} ({entry.rule}), {entry.points_now:+.1f} now"
        elif entry.rule is not None:
            line += f"  capped ({entry.rule})"
        console.print(line, soft_wrap=True, markup=False)
    if not report.timeline:
        console.print("  no events yet")

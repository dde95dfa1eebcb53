"""Command: ``nurture report feedback`` — the sales feedback loop (docs/analytics.md, "Sales
feedback loop"): sales' verdicts on the MQLs of the period, the rejection reasons over time,
recycled leads that came back, and with ``--notes`` the reps' rejection notes."""

from __future__ import annotations

import json

import click

from nurture.analytics import FilterError
from nurture.analytics.definitions import WINDOWS
from nurture.analytics.feedback import FeedbackReport, feedback_report
from nurture.analytics.feedback_rules import FEEDBACK_GROUP_BY
from nurture.analytics.feedback_tables import (
    feedback_notes_table,
    feedback_reasons_table,
    feedback_table,
)
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


def _feedback_options(command: click.decorators.FC) -> click.decorators.FC:
    command = click.option(
        "--reasons",
        "reasons_csv",
        is_flag=True,
        help="With --format csv: the rejection reasons per month instead of the summary.",
    )(command)
    command = click.option(
        "--notes",
        is_flag=True,
        help="Add the reps' rejection notes of the period (with --format csv: only them).",
    )(command)
    return report_options(command, FEEDBACK_GROUP_BY)  # type: ignore[return-value]


@report_group.command("feedback")
@_feedback_options
def feedback_command(output: str, notes: bool, reasons_csv: bool, **args: str | None) -> None:
    """Sales' verdicts on the MQLs offered in the period (accepted, rejected, waiting,
    acceptance rate, decided within the SLA), the leads recycled in the period and how
    many came back as MQL, and the rejection reasons per month of decision. --by also takes
    rule (the readiness rule and its file version)."""
    report = report_filter(args, FEEDBACK_GROUP_BY)
    if output == "csv" and notes and reasons_csv:
        raise click.UsageError("--notes, --reasons: a CSV holds one table; choose one of them")
    if reasons_csv and output != "csv":
        raise click.UsageError("--reasons: only with --format csv (the others show the reasons)")
    with runtime().sessions() as session:
        try:
            result = feedback_report(session, report, notes=notes)
        except FilterError as error:
            raise click.UsageError(usage_reasons(error)) from None
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif output == "csv":
        if notes:
            write_csv(*feedback_notes_table(result))
        elif reasons_csv:
            write_csv(*feedback_reasons_table(result))
        else:
            write_csv(*feedback_table(result))
    else:
        _print_feedback(result, f"sales feedback {report.start} to {report.end} (end not included)")


def _print_feedback(result: FeedbackReport, title: str) -> None:
    # Figures down, groups across, like the funnel; then the reasons and the notes.
    groups = [row.group or "-" for row in result.rows] if result.filter.group_by else ["all"]
    windows = "/".join(f"{days}d" for days in WINDOWS)
    lines: list[list[str]] = []
    for label, cell in (
        ("offered", lambda r: str(r.offered)),
        ("accepted", lambda r: str(r.accepted)),
        ("rejected", lambda r: str(r.rejected)),
        ("waiting", lambda r: str(r.waiting)),
        ("acceptance rate", lambda r: show_cell(r.acceptance_rate)),
        ("decided in SLA", lambda r: f"{r.decided_in_sla}/{r.decided_with_sla}"),
        ("recycled", lambda r: str(r.recycled)),
        (
            f"back as MQL ({windows})",
            lambda r: (
                f"{r.back_as_mql.by_now} "
                f"({'/'.join(str(r.back_as_mql.within[d]) for d in WINDOWS)})"
            ),
        ),
    ):
        lines.append([label, *(cell(row) for row in result.rows)])
    print_table(title, ["", *groups], lines)
    # Ungrouped, the group column would only repeat "-": it is left out.
    grouped = result.filter.group_by is not None
    header, rows = feedback_reasons_table(result)
    print_table(
        "rejection reasons by month of decision",
        header if grouped else header[1:],
        [[show_cell(cell) for cell in (row if grouped else row[1:])] for row in rows],
    )
    if result.notes is not None:
        notes = [
            [
                f"{note.decided_at:%Y-%m-%d %H:%M}",
                *([note.group or "-"] if grouped else []),
                note.reason,
                note.campaign or "-",
                note.rule_version or "-",
                note.note,
            ]
            for note in result.notes
        ]
        header = ["decided (UTC)", *(["group"] if grouped else []), "reason", "campaign",
                  "rule version", "note"]  # fmt: skip
        print_table("rejection notes", header, notes)

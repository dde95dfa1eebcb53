"""Commands: ``nurture history import`` (a history to backtest on, from CSV files or the
instance's own leads) and ``nurture readiness backtest`` (docs/backtest.md)."""

from __future__ import annotations

import csv
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from nurture.backtest import (
    Backtest,
    Finding,
    History,
    HistoryFileError,
    HistoryImportError,
    Model,
    Window,
    backtest,
    facts_used,
    field_names,
    leakage_warnings,
    protected_warnings,
    read_csv_history,
    read_history,
    read_instance_history,
    write_history,
)
from nurture.backtest.history import as_utc
from nurture.backtest.runs import HISTORY_FILE
from nurture.cli.group import cli, runtime, valid_or_exit
from nurture.cli.qualification_cmd import readiness_group
from nurture.files.event_catalogue import event_catalogue
from nurture.leads.csv_columns import LeadImportError, parse_mapping
from nurture.platform.csv_safety import safe_row
from nurture.platform.db import utcnow
from nurture.qualification.icp_parser import load_icp_file
from nurture.qualification.readiness_parser import load_readiness_file
from nurture.scoring.parser import load_scoring_file

# How many rejected rows are printed one by one (all are counted).
_PROBLEMS_SHOWN = 20
# The exit status of `readiness backtest --strict` when there is a warning (1 is a broken
# file, 2 a usage error).
WARNINGS_EXIT = 3


def _history_path(path: Path | None) -> Path:
    return path or runtime().settings.instance_path / HISTORY_FILE


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_mapping(pairs)
    except LeadImportError as exc:
        raise click.ClickException(str(exc)) from None


@cli.group("history")
def history_group() -> None:
    """Past leads and their outcomes, to backtest a readiness model on."""


@history_group.command("import")
@click.argument("leads_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV of the leads' past events: lead key, type, time, properties (JSON) or more "
    "columns (url, form...) that become properties.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="'COLUMN=TARGET'",
    help="Map a leads column: a lead field, attributes.NAME, history.NAME (an aggregate "
    "fact), key, created_at, converted, converted_at, deal_value, facts_at, or - to skip.",
)
@click.option(
    "--event-map",
    "event_maps",
    multiple=True,
    metavar="'COLUMN=TARGET'",
    help="Map an events column: lead, type, occurred_at, properties, or - to skip.",
)
@click.option(
    "--instance",
    "from_instance",
    is_flag=True,
    help="Use this instance's own leads whose outcome is known instead of CSV files.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Where to write the history (default: {HISTORY_FILE} in the instance folder).",
)
def history_import(
    leads_file: Path | None,
    events_file: Path | None,
    maps: tuple[str, ...],
    event_maps: tuple[str, ...],
    from_instance: bool,
    out: Path | None,
) -> None:
    """Read past leads (LEADS_FILE, a CSV with their outcome) or the instance's own, and
    write the history `nurture readiness backtest` replays. Rejected rows are listed as
    FILE:LINE: REASON and counted; exit status 1 when any was rejected."""
    target = _history_path(out)
    now = utcnow()
    if from_instance == (leads_file is not None):
        raise click.UsageError("give either LEADS_FILE or --instance")
    if from_instance:
        with runtime().sessions() as session:
            found = read_instance_history(session, now)
        write_history(target, found.history)
        _summary(target, found.history)
        _history_warnings(found.history)
        return
    assert leads_file is not None
    try:
        read = read_csv_history(
            leads_file,
            events_file,
            mapping=_mapping(maps),
            event_mapping=_mapping(event_maps),
            now=now,
        )
    except HistoryImportError as exc:
        raise click.ClickException(str(exc)) from None
    for column, column_target in read.columns.items():
        click.echo(f"column {column!r} → {column_target}")
    for column in read.ignored:
        click.echo(f"column {column!r} ignored (map it with --map, or --map '{column}=-')")
    for problem in read.problems[:_PROBLEMS_SHOWN]:
        click.echo(str(problem))
    if len(read.problems) > _PROBLEMS_SHOWN:
        click.echo(f"… and {len(read.problems) - _PROBLEMS_SHOWN} more rejected row(s)")
    leads_rejected = read.lead_rows - len(read.history.leads)
    events_rejected = read.event_rows - read.events_kept
    history = History(
        read.history.leads,
        source=read.history.source,
        imported_at=now,
        notes=(f"{leads_rejected} lead row(s) and {events_rejected} event row(s) rejected",),
    )
    write_history(target, history)
    click.echo(
        f"leads: {read.lead_rows} read, {len(history.leads)} kept, {leads_rejected} rejected"
    )
    if events_file is not None:
        click.echo(
            f"events: {read.event_rows} read, {read.events_kept} kept, {events_rejected} rejected"
        )
    _summary(target, history, notes=False)
    _history_warnings(history)
    if read.problems:
        sys.exit(1)


def _summary(target: Path, history: History, *, notes: bool = True) -> None:
    converters = sum(1 for lead in history.leads if lead.outcome.converted)
    events = sum(len(lead.events) for lead in history.leads)
    for note in history.notes if notes else ():
        click.echo(note)
    click.echo(
        f"wrote {target}: {len(history.leads)} leads ({converters} converted), {events} events"
    )


def _history_warnings(history: History) -> None:
    """The history's warnings, with where the instance's files read each fact (when they
    are valid: a broken file is the backtest's to report): what the backtest says again."""
    live = _live_model()
    findings = _warnings(history, [live] if live else [])
    for finding in findings:
        click.echo(f"warning ({finding.kind}) {finding.message}")
    if findings:
        click.echo(f"{len(findings)} warning(s): see docs/backtest.md, 'Warnings'")


def _warnings(history: History, models: list[Model]) -> list[Finding]:
    """Leakage and protected-attribute warnings on ``history``, saying which of the
    ``models``' files read each fact."""
    used: dict[str, list[str]] = {}
    for model in models:
        places = facts_used(scoring=model.scoring, icp=model.icp, readiness=model.readiness)
        for fact, where in places.items():
            known = used.setdefault(fact, [])
            known.extend(place for place in where if place not in known)
    # Every model shares the scoring and ICP files (only the readiness files differ).
    first = models[0] if models else None
    return [
        *leakage_warnings(history, used=used),
        *protected_warnings(
            field_names(history),
            icp=first.icp if first else None,
            scoring=first.scoring if first else None,
        ),
    ]


# ---------------------------------------------------------------- backtest


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date, e.g. 2026-01-01") from None


def _live_model() -> Model | None:
    """The instance's scoring, ICP and readiness files, or None when one is not valid."""
    settings = runtime().settings
    catalogue = event_catalogue(settings)
    scoring = load_scoring_file(settings.scoring_file, catalogue=catalogue).value
    icp = load_icp_file(settings.icp_file).value
    readiness = load_readiness_file(settings.readiness_file, catalogue=catalogue).value
    if scoring is None or icp is None or readiness is None:
        return None
    return Model(scoring=scoring, icp=icp, readiness=readiness)


def _model(scoring: Path | None, icp: Path | None, readiness: Path) -> Model:
    settings = runtime().settings
    catalogue = event_catalogue(settings)
    scoring_path = scoring or settings.scoring_file
    icp_path = icp or settings.icp_file
    return Model(
        scoring=valid_or_exit(scoring_path, load_scoring_file(scoring_path, catalogue=catalogue)),
        icp=valid_or_exit(icp_path, load_icp_file(icp_path)),
        readiness=valid_or_exit(readiness, load_readiness_file(readiness, catalogue=catalogue)),
    )


@readiness_group.command("backtest")
@click.option(
    "--history",
    "history_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The history to replay (default: {HISTORY_FILE} in the instance folder).",
)
@click.option(
    "--scoring",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scoring file (default: NURTURE_SCORING_FILE).",
)
@click.option(
    "--icp",
    type=click.Path(dir_okay=False, path_type=Path),
    help="ICP file (default: NURTURE_ICP_FILE).",
)
@click.option(
    "--readiness",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Readiness file (default: NURTURE_READINESS_FILE).",
)
@click.option(
    "--compare",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A second readiness file, backtested beside the first.",
)
@click.option("--from", "start", metavar="DATE", help="Only leads created from this date.")
@click.option("--to", "end", metavar="DATE", help="Only leads created before this date.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option("--missed", default=10, show_default=True, help="Missed converters to list.")
@click.option(
    "--strict",
    is_flag=True,
    help=f"Exit with status {WARNINGS_EXIT} when there is a warning (a fact that leaks the "
    "outcome, a protected attribute); the figures are printed all the same.",
)
def readiness_backtest(
    history_file: Path | None,
    scoring: Path | None,
    icp: Path | None,
    readiness: Path | None,
    compare: Path | None,
    start: str | None,
    end: str | None,
    output: str,
    missed: int,
    strict: bool,
) -> None:
    """Replay the history through the scoring, ICP and readiness files (default: the
    instance's) and say what the readiness rule would have handed over, and how well."""
    window = Window(_date(start), _date(end))
    if window.start and window.end and window.start >= window.end:
        raise click.BadParameter("--from must be before --to")
    settings = runtime().settings
    paths = [readiness or settings.readiness_file, *([compare] if compare else [])]
    models = [_model(scoring, icp, path) for path in paths]
    try:
        history = read_history(_history_path(history_file))
    except HistoryFileError as exc:
        raise click.ClickException(str(exc)) from None
    began = time.perf_counter()
    # Columns are named by file name, or by path when the two names are the same.
    names = [path.name for path in paths]
    if len(set(names)) < len(names):
        names = [str(path) for path in paths]
    results = [
        backtest(model, history.leads, window, name=name)
        for model, name in zip(models, names, strict=True)
    ]
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    in_window = History(tuple(lead for lead in history.leads if window.holds(lead)))
    findings = _warnings(in_window, models)
    checked = time.perf_counter() - began
    if output == "json":
        data = {
            "results": [r.as_dict(missed=missed) for r in results],
            "warnings": [finding.as_dict() for finding in findings],
        }
        click.echo(json.dumps(data, indent=2))
    elif output == "csv":
        _csv(results)
        # The figures stay one table a spreadsheet reads; the warnings go beside them.
        for finding in findings:
            click.echo(f"warning ({finding.kind}) {finding.message}", err=True)
    else:
        _table(results, missed, seconds)
        _warnings_table(findings, checked)
    if strict and findings:
        sys.exit(WARNINGS_EXIT)


def _figures(result: Backtest) -> list[tuple[str, str]]:
    def share(value: float | None) -> str:
        return "–" if value is None else f"{value:.1%}"

    median = result.median_days
    return [
        ("leads", str(result.leads)),
        ("converted (base rate)", f"{result.converters} ({share(result.base_rate)})"),
        ("handed over", str(result.handed_over)),
        ("handed over and converted", str(result.caught)),
        ("precision", share(result.precision)),
        ("recall", share(result.recall)),
        ("lift over base rate", "–" if result.lift is None else f"{result.lift:.2f}×"),
        ("median days handover → conversion", "–" if median is None else f"{median:.1f}"),
        ("deal value caught / missed", f"{result.caught_value:,.0f} / {result.missed_value:,.0f}"),
    ]


def _table(results: list[Backtest], missed: int, seconds: float) -> None:
    console = Console(width=max(100, 40 + 30 * len(results)))
    table = Table(title="Readiness backtest")
    table.add_column("")
    for result in results:
        table.add_column(result.name, justify="right")
    rows = [_figures(result) for result in results]
    for index, (label, _) in enumerate(rows[0]):
        table.add_row(label, *(row[index][1] for row in rows))
    console.print(table)
    months = sorted({m.month for r in results for m in r.months})
    if months:
        by_month = Table(title="Handed over per month (converted)")
        by_month.add_column("month")
        for result in results:
            by_month.add_column(result.name, justify="right")
        for month in months:
            cells = []
            for result in results:
                found = next((m for m in result.months if m.month == month), None)
                cells.append(f"{found.handed_over} ({found.converted})" if found else "0")
            by_month.add_row(month, *cells)
        console.print(by_month)
    for result in results:
        if not result.missed:
            continue
        kinds = ", ".join(f"{kind}: {n}" for kind, n in result.missed_conditions())
        console.print(f"{result.name}: {len(result.missed)} converter(s) missed ({kinds})")
        for item in result.missed[:missed]:
            console.print(f"  {item.key}: {item.why}", markup=False, highlight=False)
    console.print(f"replayed in {seconds:.2f} s")


def _warnings_table(findings: list[Finding], seconds: float) -> None:
    console = Console(width=100)
    if not findings:
        console.print(f"no warnings (leakage, protected attributes; checked in {seconds:.2f} s)")
        return
    table = Table(title=f"Warnings ({len(findings)}; checked in {seconds:.2f} s)")
    table.add_column("kind")
    table.add_column("fact", overflow="fold")
    table.add_column("why", overflow="fold")
    for finding in findings:
        table.add_row(finding.kind, Text(finding.fact), Text(finding.message))
    console.print(table)


def _csv(results: list[Backtest]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(safe_row(["figure", *(r.name for r in results)]))
    data = [r.as_dict(missed=0) for r in results]
    for name in (
        "leads",
        "converters",
        "handed_over",
        "handed_over_converted",
        "precision",
        "recall",
        "base_rate",
        "lift",
        "median_days_to_conversion",
        "deal_value_caught",
        "deal_value_missed",
        "missed_converters",
    ):
        writer.writerow(safe_row([name, *(d[name] for d in data)]))
    months = sorted({m.month for r in results for m in r.months})
    for month in months:
        for kind in ("handed_over", "converted"):
            values = []
            for result in results:
                found = next((m for m in result.months if m.month == month), None)
                values.append(getattr(found, kind) if found else 0)
            writer.writerow(safe_row([f"{kind} {month}", *values]))

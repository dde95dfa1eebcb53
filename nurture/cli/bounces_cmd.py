"""Commands: ``nurture bounces classify`` (dry run) and ``nurture bounces ingest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from nurture.cli.group import cli, runtime
from nurture.sending.bounces import classify_bytes
from nurture.sending.bounces.apply import IngestResult, ingest_file
from nurture.sending.bounces.sources import iter_messages


@cli.group("bounces")
def bounces_group() -> None:
    """Bounces and complaints: classify (dry run) and ingest."""


@bounces_group.command("classify")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def classify_command(paths: tuple[Path, ...], as_json: bool) -> None:
    """Show the failed recipients each message file reports, with status, reply code,
    decision and reason. Changes nothing.

    PATHS may be .eml files, directories, maildirs or mbox files.
    """
    documents: list[dict[str, Any]] = []
    for item in iter_messages(paths):
        if item.error:
            documents.append({"file": item.label, "kind": "unreadable", "error": item.error})
            continue
        report = classify_bytes(item.raw)
        document = {"file": item.label, **report.as_dict()}
        for recipient in document["recipients"]:
            recipient.pop("diagnostic", None)
        documents.append(document)
    if as_json:
        click.echo(json.dumps(documents, indent=2, ensure_ascii=False))
        return
    console = Console()
    table = Table("file", "recipient", "status", "reply", "decision", "reason")
    for document in documents:
        if not document.get("recipients"):
            table.add_row(document["file"], "-", "", "", "skipped", document.get("error", ""))
        for recipient in document.get("recipients", []):
            table.add_row(
                document["file"],
                recipient["recipient"] or "(not named)",
                recipient["status"],
                recipient["reply_code"],
                recipient["decision"],
                recipient["reason"],
            )
    console.print(table)


@bounces_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest_command(paths: tuple[Path, ...]) -> None:
    """Apply bounces and complaints: suppress hard bounces and complainers, count soft
    bounces (suppressed at NURTURE_SOFT_BOUNCE_LIMIT), report sender-side problems.

    Malformed or unknown files are reported and skipped; a file ingested before is not
    counted again.
    """
    rt = runtime()
    results: list[IngestResult] = []
    for item in iter_messages(paths):
        if item.error:
            results.append(IngestResult(item.label, "skipped", item.error))
            continue
        results.append(
            ingest_file(
                rt.sessions,
                item.raw,
                label=item.label,
                soft_bounce_limit=rt.settings.soft_bounce_limit,
            )
        )
    _print_summary(results)


def _print_summary(results: list[IngestResult]) -> None:
    console = Console()
    applied = [r for r in results if r.state == "applied"]
    actions: dict[str, int] = {}
    for result in applied:
        for outcome in result.outcomes:
            actions[outcome.action] = actions.get(outcome.action, 0) + 1
    for result in results:
        if result.state == "skipped":
            console.print(f"[yellow]skipped[/] {result.label}: {result.note}")
    issues = [(r.label, o) for r in applied for o in r.sender_issues]
    if issues:
        console.print(f"[red]{len(issues)} sender-side problem(s): check your sending setup[/]")
        for label, outcome in issues:
            console.print(f"  {label}: {outcome.status or '-'} {outcome.reason}")
    counts = ", ".join(f"{n} {action}" for action, n in sorted(actions.items())) or "nothing"
    duplicates = sum(r.state == "duplicate" for r in results)
    skipped = sum(r.state == "skipped" for r in results)
    console.print(
        f"{len(applied)} file(s) applied ({counts}); {duplicates} already ingested; "
        f"{skipped} skipped"
    )

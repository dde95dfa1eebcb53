"""Command: ``nurture accounts show DOMAIN`` — an account's engagement, buying committee
and combined timeline."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from nurture.cli.group import cli, runtime
from nurture.cli.timestamps import parse_timestamp
from nurture.handoff.account_scores import refresh_all_account_scores
from nurture.handoff.account_view import account_view, describe_method
from nurture.platform.db import transaction, utcnow


@cli.group("accounts")
def accounts_group() -> None:
    """Accounts (companies) and their people."""


@accounts_group.command("show")
@click.argument("ref")
@click.option("--events", type=click.IntRange(1, 1000), default=25, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the same as JSON.")
@click.option(
    "--now",
    "now_text",
    metavar="TIMESTAMP",
    help="Decay scores to this time (ISO 8601; naive = UTC), e.g. the end of a simulation.",
)
def show_command(ref: str, events: int, as_json: bool, now_text: str | None) -> None:
    """The account with domain (or id) REF: engagement score, committee, people, timeline."""

    now = parse_timestamp(now_text) if now_text else utcnow()
    settings = runtime().settings
    with runtime().sessions() as session:
        view = account_view(session, ref, now, method=settings.account_score, timeline=events)
        if view is None:
            raise click.ClickException(f"no account with domain or id {ref!r}")
        if as_json:
            click.echo(json.dumps(view.as_dict(), indent=2, ensure_ascii=False))
            return
        data = view.as_dict()
    console = Console()
    account = data["account"]
    facts = ", ".join(
        str(part)
        for part in (
            account["industry"],
            f"{account['employees']:,} employees" if account["employees"] else None,
            account["country"],
        )
        if part
    )
    console.print(f"[bold]{account['name'] or account['domain']}[/] ({account['domain']})  {facts}")
    owner = account["owner"]
    console.print(
        f"  owner      {owner['name'] + ' <' + owner['email'] + '>' if owner else 'none yet'}"
    )
    engagement = data["engagement"]
    console.print(
        f"  engagement [bold]{engagement['score']}[/] ({describe_method(view.method)}); "
        f"{engagement['engaged_people']} of {engagement['people']} people engaged (warm or hot)"
    )
    roles = data["committee"]["roles"]
    covered = ", ".join(f"{role}: {', '.join(names)}" for role, names in roles.items() if names)
    console.print(f"  committee  {covered or 'nobody engaged yet'}")
    if data["committee"]["missing"]:
        console.print(f"  [yellow]missing    {', '.join(data['committee']['missing'])}[/]")

    people = Table(title="people", title_justify="left")
    for column in ("lead", "title", "role", "stage", "temp", "score", "fit", "last activity"):
        people.add_column(column, justify="right" if column == "score" else "left")
    for person in data["people"]:
        people.add_row(
            f"{person['name']}\n{person['email']}",
            person["title"] or "",
            person["role"],
            person["stage"],
            person["temperature"],
            f"{person['score']:.1f}",
            person["fit_grade"] or "",
            (person["last_activity"] or "")[:16].replace("T", " "),
        )
    console.print(people)
    if data["handoffs"]:
        handoffs = Table(title="handoffs", title_justify="left")
        for column in ("id", "created", "lead", "owner", "status"):
            handoffs.add_column(column)
        for item in data["handoffs"]:
            status = item["status"] + (
                f": {item['reject_reason']}" if item["reject_reason"] else ""
            )
            handoffs.add_row(
                str(item["id"]),
                item["created_at"][:16].replace("T", " "),
                item["lead"],
                item["owner"] or "nobody",
                status,
            )
        console.print(handoffs)
    timeline = Table(title="timeline (newest first, UTC)", title_justify="left")
    for column in ("when", "who", "what", "detail"):
        timeline.add_column(column)
    for entry in data["timeline"]:
        machine = (
            "" if entry["human"] else f" [dim](machine: {', '.join(entry['machine_reasons'])})[/]"
        )
        timeline.add_row(
            entry["at"][:16].replace("T", " "),
            entry["lead"] or "",
            entry["type"],
            (entry["detail"] or "") + machine,
        )
    console.print(timeline)


@accounts_group.command("refresh-scores")
def refresh_scores_command() -> None:
    """Recompute every account's rolled-up score and latest activity (the account list sorts
    by them). They follow their people by themselves; run this once after upgrading, or
    after changing NURTURE_ACCOUNT_SCORE."""
    settings = runtime().settings
    now = utcnow()
    total, after = 0, 0
    while True:
        # One transaction per thousand accounts: a big instance is never locked for long.
        with transaction(runtime().sessions) as session:
            count, last = refresh_all_account_scores(
                session, now, settings.account_score, after=after, limit=1000
            )
        total += count
        if last is None:
            break
        after = last
    click.echo(f"{total} account(s) refreshed")

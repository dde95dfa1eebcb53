"""Command: ``nurture report digest`` — the weekly digest of the last complete week, shown
(as the readers get it) or sent now to every reader who has not had it."""

from __future__ import annotations

from datetime import date, timedelta

import click

from nurture.analytics.digest import reported_week
from nurture.analytics.digests import build_digest, render_digest, reports_link, send_due_digests
from nurture.cli.group import runtime
from nurture.cli.report_cmd import report_group
from nurture.consent.brand import current_brand
from nurture.platform.db import transaction, utcnow


@report_group.command("digest")
@click.option(
    "--week",
    metavar="DATE",
    help="Any day of the week to report (YYYY-MM-DD) [default: the last complete week].",
)
@click.option(
    "--format", "output", type=click.Choice(("text", "html")), default="text", show_default=True
)
@click.option(
    "--send",
    is_flag=True,
    help="Send it to every reader who has not had this week's digest (the worker does so "
    "on Mondays from 07:00 UTC).",
)
def digest_command(week: str | None, output: str, send: bool) -> None:
    """The weekly digest: the funnel's figures of a week (Monday to Sunday, UTC) against
    the week before, and what changed."""
    now = utcnow()
    start = _monday(week) if week else None
    if send:
        # The same claim-and-send as the worker's: nobody gets a week twice.
        result = send_due_digests(runtime(), now, start)
        click.echo(str(result))
        if result.failed:
            raise SystemExit(1)
        return
    monday = start or reported_week(now)[0]
    with transaction(runtime().sessions) as session:
        digest = build_digest(session, monday)
        company = current_brand(session, runtime().settings).company_name
    rendered = render_digest(
        digest, company=company, reports_url=reports_link(runtime().settings.public_url, digest)
    )
    if output == "html":
        click.echo(rendered.html)
    else:
        click.echo(f"Subject: {rendered.subject}\n\n{rendered.text}")


def _monday(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise click.UsageError(f"--week: {text[:40]!r} is not a date (YYYY-MM-DD)") from None
    monday = day - timedelta(days=day.weekday())
    if monday + timedelta(days=7) > utcnow().date():
        raise click.UsageError(f"--week: the week of {day} is not over yet")
    return monday

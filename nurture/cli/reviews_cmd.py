"""Commands: ``nurture handoffs reviews`` and ``nurture handoffs review ID --send|--dismiss``:
marketing's review queue of hand-raisers (docs/handoff.md#hand-raisers-outside-the-icp)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from nurture.cli.group import runtime
from nurture.cli.handoffs_cmd import handoffs_group, print_reviews
from nurture.handoff.model import HandoffError
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.qualification import reviews
from nurture.qualification.hand_raise_rules import REVIEW_STATUSES


@handoffs_group.command("reviews")
@click.option(
    "--status",
    type=click.Choice([*REVIEW_STATUSES, "all"]),
    default="open",
    show_default=True,
    help="Which review items.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The items as JSON.")
def reviews_command(status: str, limit: int, as_json: bool) -> None:
    """Hand-raisers held for marketing's review (outside the ICP), newest first."""
    wanted = None if status == "all" else status
    if not as_json:
        print_reviews(wanted, limit)
        return
    now = utcnow()
    with runtime().sessions() as session:
        page = reviews.list_reviews(session, status=wanted, limit=limit)
        body = [reviews.review_json(row, lead, now) for row, lead in page.rows]
    click.echo(json.dumps(body, indent=2, default=str))


@handoffs_group.command("review")
@click.argument("review_id", type=int)
@click.option("--send", "send", is_flag=True, help="Send the lead to sales anyway.")
@click.option("--dismiss", "dismiss", is_flag=True, help="Keep nurturing it (needs --reason).")
@click.option("--reason", help="Why it stays in nurture (--dismiss), or a note for sales (--send).")
def review_command(review_id: int, send: bool, dismiss: bool, reason: str | None) -> None:
    """Resolve a hand-raiser in review: --send to sales, or --dismiss --reason "…"."""
    if send == dismiss:
        raise click.UsageError("say --send or --dismiss (one of them)")

    def work(session: Any, now: datetime) -> str:
        if send:
            row = reviews.send_to_sales(session, review_id, actor="user:cli", now=now, note=reason)
            return f"review {row.id}: sent to sales as handoff {row.handoff_id}"
        row = reviews.dismiss(session, review_id, actor="user:cli", reason=reason, now=now)
        lead = session.get(Lead, row.lead_id)
        return (
            f"review {row.id}: dismissed; {lead.full_name if lead else 'the lead'} stays in nurture"
        )

    try:
        with transaction(runtime().sessions) as session:
            message = work(session, utcnow())
    except HandoffError as error:
        raise click.ClickException(f"{error.message} [{error.code}]") from None
    click.echo(message)

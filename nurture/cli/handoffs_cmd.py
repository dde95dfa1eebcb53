"""Commands: ``nurture handoffs list|show|accept|reject|convert|assign|reasons`` (the review
queue's ``reviews`` and ``review`` are in ``reviews_cmd``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from nurture.cli.group import cli, runtime
from nurture.handoff import lookup, verdicts
from nurture.handoff.model import OUTCOMES, STATUSES, HandoffError
from nurture.handoff.reports import handoff_actions, handoff_json, list_handoffs, reasons_report
from nurture.handoff.reps import find_rep
from nurture.models import Lead, SalesRep
from nurture.platform.db import transaction, utcnow
from nurture.qualification import reviews


@cli.group("handoffs")
def handoffs_group() -> None:
    """Leads handed to sales: who got them, why, and sales' verdict."""


def _fail(error: HandoffError) -> None:
    raise click.ClickException(f"{error.message} [{error.code}]")


@handoffs_group.command("list")
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "in-review"]),
    help="Only handoffs in this status; in-review: the hand-raisers held for marketing.",
)
@click.option("--rep", help="Only this rep's handoffs (email or id).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def list_command(status: str | None, rep: str | None, limit: int) -> None:
    """Handoffs, newest first."""
    if status == "in-review":
        print_reviews("open", limit)
        return
    with runtime().sessions() as session:
        try:
            owner = find_rep(session, rep)
        except HandoffError as error:
            _fail(error)
        rows = list_handoffs(session, status=status, rep=owner, limit=limit)
        table = Table(title=f"handoffs{f' ({status})' if status else ''}")
        for column in ("id", "created (UTC)", "lead", "owner", "status", "why", "fit", "score"):
            table.add_column(column)
        for handoff, lead, rep_row in rows:
            status_text = handoff.status
            if handoff.status == "rejected":
                status_text += f": {handoff.reject_reason}"
            elif handoff.outcome:
                status_text += f": {handoff.outcome}"
            table.add_row(
                str(handoff.id),
                f"{handoff.created_at:%Y-%m-%d %H:%M}",
                f"{lead.full_name}\n{lead.email}",
                rep_row.name if rep_row else "[bold red]nobody[/]",
                status_text,
                handoff.qualification_rule + (" (hand-raiser)" if handoff.hand_raiser else ""),
                handoff.fit_grade or "",
                f"{handoff.score:.0f}",
            )
    Console().print(table)
    if not rows:
        click.echo("no handoffs")


def print_reviews(status: str | None, limit: int) -> None:
    """The review queue as a table, with the counts by status."""
    now = utcnow()
    with runtime().sessions() as session:
        page = reviews.list_reviews(session, status=status, limit=limit)
        counts = reviews.review_counts(session)
        rows = [reviews.review_json(row, lead, now) for row, lead in page.rows]
    table = Table(title=f"hand-raisers in review ({status or 'all'})")
    for column in ("id", "raised (UTC)", "lead", "asked for", "fit", "why held", "status"):
        table.add_column(column)
    for row in rows:
        status_text = row["status"]
        if row["resolved_by"]:
            status_text += f" by {row['resolved_by']}"
        if row["note"]:
            status_text += f": {row['note']}"
        table.add_row(
            str(row["id"]),
            (row["hand_raise"]["raised_at"] or "")[:16].replace("T", " "),
            f"{row['lead']['name']}\n{row['lead']['email']}",
            row["hand_raise"]["event_type"] or "hand-raise",
            row["fit_grade"] or "not graded",
            "; ".join(row["reasons"][1:] or row["reasons"]),
            status_text,
        )
    Console().print(table)
    if not rows:
        click.echo("no hand-raisers in review" if status == "open" else "no review items")
    click.echo(
        f"{counts['in_review']} in review, {counts['sent']} sent to sales after review, "
        f"{counts['dismissed']} dismissed, {counts['outside_icp_to_sales']} outside the ICP "
        "sent to sales by the readiness file"
    )


@handoffs_group.command("show")
@click.argument("handoff_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Everything as JSON.")
def show_command(handoff_id: int, as_json: bool) -> None:
    """One handoff: the lead, why, the owner, what happened since."""
    with runtime().sessions() as session:
        try:
            handoff = lookup.get_handoff(session, handoff_id)
        except HandoffError as error:
            _fail(error)
        lead = session.get(Lead, handoff.lead_id)
        owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        assert lead is not None
        body = handoff_json(
            handoff, lead, owner, full=True, actions=handoff_actions(session, handoff.id)
        )
    if as_json:
        click.echo(json.dumps(body, indent=2, default=str))
        return
    _print_handoff(body)


def _print_handoff(body: dict[str, Any]) -> None:
    console = Console()
    lead, snapshot = body["lead"], body.get("snapshot") or {}
    owner, q = body["owner"], body["qualification"]
    lines = [
        f"[bold]handoff {body['id']}[/]  {body['status']}  {lead['name']} <{lead['email']}>"
        f" (stage {lead['stage']})",
        "  owner      "
        + (f"{owner['name']} <{owner['email']}>" if owner else "nobody (needs an owner)"),
        f"  assignment {body['assignment']['method']}: {body['assignment']['reason']}",
        f"  qualified  {q['rule']}{' (hand-raiser)' if q['hand_raiser'] else ''}: "
        + "; ".join(q["reasons"]),
        f"  fit        {body['fit_grade'] or 'not graded'}   score {body['score']:.1f}"
        f" ({body['temperature']})",
        f"  from       campaign {body['campaign'] or '-'}, source {body['source'] or '-'}",
    ]
    if body["reject_reason"]:
        note = f": {body['reject_note']}" if body["reject_note"] else ""
        lines.append(f"  rejected   {body['reject_reason']}{note}")
    if body["outcome"]:
        value = f" {body['deal_value']} {body['deal_currency']}" if body["deal_value"] else ""
        lost = f" ({body['lost_reason']})" if body.get("lost_reason") else ""
        lines.append(f"  outcome    {body['outcome']}{value}{lost}")
    step = snapshot.get("next_step")
    if step:
        lines.append(f"  next step  {step['action']} ({step['because']})")
    missing = (snapshot.get("why") or {}).get("fit", {}).get("missing")
    if missing:
        lines.append(f"  missing    {', '.join(missing)}")
    for line in lines:
        console.print(line)
    table = Table(title="log")
    for column in ("at (UTC)", "action", "by", "detail"):
        table.add_column(column)
    for action in body["actions"]:
        detail = ", ".join(
            f"{k}={v}" for k, v in (action["detail"] or {}).items() if v not in (None, "", [])
        )
        table.add_row(
            action["at"][:16].replace("T", " "), action["action"], action["actor"], detail
        )
    console.print(table)


def _act(work: Any) -> None:
    try:
        with transaction(runtime().sessions) as session:
            message = work(session, utcnow())
    except HandoffError as error:
        _fail(error)
    click.echo(message)


@handoffs_group.command("accept")
@click.argument("handoff_id", type=int)
@click.option("--as", "rep", required=True, help="The rep accepting (email or id).")
def accept_command(handoff_id: int, rep: str) -> None:
    """Accept a lead for a rep: stage sal, the rep owns the lead (and the account)."""

    def work(session: Any, now: datetime) -> str:
        acting = find_rep(session, rep)
        handoff = verdicts.accept(session, handoff_id, rep=acting, now=now)
        return f"handoff {handoff.id} accepted by {handoff.decided_by}"

    _act(work)


@handoffs_group.command("reject")
@click.argument("handoff_id", type=int)
@click.option("--reason", required=True, help="A reason id from the team file, e.g. no-budget.")
@click.option("--note", help="A note for marketing.")
@click.option("--as", "rep", help="The rep rejecting (email or id; default: the owner).")
def reject_command(handoff_id: int, reason: str, note: str | None, rep: str | None) -> None:
    """Give a lead back to marketing with a reason (stage recycled or disqualified)."""

    def work(session: Any, now: datetime) -> str:
        acting = find_rep(session, rep)
        handoff = verdicts.reject(
            session, handoff_id, reason=reason, note=note, rep=acting, now=now
        )
        return f"handoff {handoff.id} rejected: {handoff.reject_reason}"

    _act(work)


@handoffs_group.command("convert")
@click.argument("handoff_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@click.option("--value", help="Deal value, e.g. 24000 or 24000.50.")
@click.option("--currency", help="ISO code (default: the team file's currency).")
@click.option("--reason", help="Why the deal was lost (outcome lost).")
@click.option("--as", "rep", help="The rep (email or id; default: the owner).")
def convert_command(
    handoff_id: int,
    outcome: str,
    value: str | None,
    currency: str | None,
    reason: str | None,
    rep: str | None,
) -> None:
    """Record a sales outcome: sql, opportunity, won (customer) or lost (recycled)."""

    def work(session: Any, now: datetime) -> str:
        acting = find_rep(session, rep)
        handoff = verdicts.convert(
            session,
            handoff_id,
            outcome=outcome,
            value=value,
            currency=currency,
            reason=reason,
            rep=acting,
            now=now,
        )
        amount = (
            f" ({handoff.deal_value} {handoff.deal_currency})"
            if handoff.deal_value is not None
            else ""
        )
        return f"handoff {handoff.id}: {handoff.outcome}{amount}"

    _act(work)


@handoffs_group.command("assign")
@click.argument("handoff_id", type=int)
@click.option("--to", "rep", required=True, help="The new owner (email or id).")
@click.option("--reason", default="", help="Why (kept in the log).")
def assign_command(handoff_id: int, rep: str, reason: str) -> None:
    """Reassign an open handoff to another rep (the old links stop working)."""

    def work(session: Any, now: datetime) -> str:
        target = find_rep(session, rep)
        assert target is not None
        new = verdicts.reassign(
            session,
            handoff_id,
            to=target,
            reason=reason or "reassigned by hand",
            actor="user:cli",
            now=now,
        )
        return f"handoff {handoff_id} reassigned to {target.name}: new handoff {new.id}"

    _act(work)


@handoffs_group.command("reasons")
@click.option("--since", help="Only handoffs created since this date (YYYY-MM-DD).")
def reasons_command(since: str | None) -> None:
    """Why sales gives leads back, per campaign and source."""
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError as exc:
            raise click.BadParameter(f"{since!r} is not a date like 2026-11-01") from exc
    with runtime().sessions() as session:
        report = reasons_report(session, since=start).as_dict()
        raised = reviews.review_counts(session, since=start)
    table = Table(title=f"rejected handoffs by reason{f' since {since}' if since else ''}")
    for column in ("campaign", "source", "handed off", "rejected", "reasons"):
        table.add_column(column)
    for group in report["groups"]:
        reasons = ", ".join(
            f"{reason} {count}"
            for reason, count in sorted(group["reasons"].items(), key=lambda kv: -kv[1])
        )
        table.add_row(
            group["campaign"] or "-",
            group["source"] or "-",
            str(group["handed_off"]),
            str(group["rejected"]),
            reasons,
        )
    Console().print(table)
    totals = ", ".join(f"{reason} {count}" for reason, count in report["by_reason"].items())
    click.echo(f"{report['total_rejected']} rejected in all" + (f": {totals}" if totals else ""))
    click.echo(
        f"hand-raisers: {raised['handed_off']} handed off by readiness, "
        f"{raised['outside_icp_to_sales']} outside the ICP sent to sales by the readiness file, "
        f"{raised['in_review']} in marketing's review, {raised['sent']} sent to sales after "
        f"review, {raised['dismissed']} dismissed"
    )

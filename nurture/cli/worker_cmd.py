"""Commands: ``nurture tick`` (one pass) and ``nurture worker`` (the scheduler loop)."""

from __future__ import annotations

import logging
from datetime import datetime

import click

from nurture.cli.group import cli, runtime_without_app
from nurture.cli.timestamps import parse_timestamp
from nurture.handoff.webhooks import deliver_due as deliver_webhooks
from nurture.platform.runtime import Runtime
from nurture.tracking.clock import instance_now, set_simulated_clock
from nurture.tracking.processing import HitProcessor
from nurture.worker import WorkerAlreadyRunning, WorkerPass, run_worker, single_worker_lock
from nurture.worker.rollups import roll_up_campaign_results


# Without Flask's app context: neither command serves a page, and importing the web app
# would only delay the first send.
@cli.command("tick", with_appcontext=False)
@click.option(
    "--now",
    "now_text",
    metavar="TIMESTAMP",
    help="Run as if it were this time (ISO 8601; naive = UTC). Simulates weeks in seconds; "
    "with NURTURE_SIMULATED_TIME=1 the instance's clock moves there too.",
)
@click.pass_context
def tick_command(ctx: click.Context, now_text: str | None) -> None:
    """Run one pass: turn tracking hits into events, sync changed files, send what is due,
    retry what failed, and exit."""
    given = parse_timestamp(now_text) if now_text is not None else None
    with runtime_without_app(ctx) as rt:
        _tick(rt, given)


def _tick(rt: Runtime, given: datetime | None) -> None:
    # On a simulated-time instance a bare tick runs on at the simulated clock, not back at
    # the wall clock's time, which could be before what earlier ticks sent.
    now = given or instance_now(rt)
    try:
        with single_worker_lock(rt):
            if given is not None:
                # Tracking hits and API events arriving after this tick are stamped from
                # here on (docs/tracking.md#simulated-time); a no-op unless it is on.
                set_simulated_clock(rt, now)
            # Tracking hits captured since the last pass become events (and scores, and
            # handoffs) too, as the worker's own hit job does every second.
            one_pass = WorkerPass(rt, on_report=_echo_news, hits=HitProcessor(rt))
            try:
                report = one_pass.run(now)
            finally:
                one_pass.close()
            # After the commit of everything above, and never inside it.
            webhooks = deliver_webhooks(rt, now)
            # What the pass sent and tracked, rolled up for the campaign results as the
            # worker's own job does (an instance run by ``nurture tick`` from cron has no
            # worker; its reports would read every email once the queue grew long).
            roll_up_campaign_results(rt)
    except WorkerAlreadyRunning as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{now.isoformat()}: {report}")
    if webhooks:
        click.echo(f"webhooks: {webhooks} delivery attempt(s) (nurture webhooks list)")


def _echo_news(report: object) -> None:
    # Only news is printed: a tick every hour of a simulation should not repeat "unchanged".
    if getattr(report, "action", "") != "unchanged":
        click.echo(str(report))


@cli.command("worker", with_appcontext=False)
@click.option(
    "--senders",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Sending processes (PostgreSQL only; one per core sends fastest).",
)
@click.pass_context
def worker_command(ctx: click.Context, senders: int) -> None:
    """Run the scheduler loop: a tick every NURTURE_TICK_SECONDS until stopped (Ctrl-C)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with runtime_without_app(ctx) as rt:
        _work(rt, senders)


def _work(rt: Runtime, senders: int) -> None:
    click.echo(
        f"worker started: tick every {rt.settings.tick_seconds:g}s"
        + (f", {senders} sending processes" if senders > 1 else "")
        + "; Ctrl-C stops it"
    )
    try:
        run_worker(rt, senders=senders)
    except WorkerAlreadyRunning as exc:
        raise click.ClickException(str(exc)) from exc

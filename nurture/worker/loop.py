"""The worker: an APScheduler loop that fires the tick, and the single-worker rule on SQLite.

The schedule itself lives in the database (``enrollment.next_due_at``); APScheduler only
fires the periodic tick, so its job store holds nothing that must survive a restart. On
PostgreSQL any number of workers may run (claims use SKIP LOCKED); the embedded SQLite
database allows one, enforced with an OS file lock that dies with the process.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from nurture.analytics.costs import CostsWatcher
from nurture.analytics.digests import send_due_digests
from nurture.campaigns.services import CampaignWatcher
from nurture.handoff.sla import run_due as run_sla
from nurture.handoff.team_sync import TeamWatcher
from nurture.handoff.webhooks import deliver_due as deliver_webhooks
from nurture.platform.db import is_sqlite, transaction, utcnow
from nurture.platform.outage import OutageGate
from nurture.platform.runtime import Runtime
from nurture.privacy.rights import purge_expired
from nurture.qualification.watch import QualificationWatcher
from nurture.scoring.watch import ScoringWatcher
from nurture.sending.engine import Engine
from nurture.sending.tick import TickReport
from nurture.tracking.clock import instance_now
from nurture.tracking.processing import HitProcessor
from nurture.worker.rollups import roll_up_campaign_results
from nurture.worker.sender import SenderPool

log = logging.getLogger(__name__)
# How often the campaign results' roll-up takes the queued changes.
ROLLUP_SECONDS = 2


class WorkerAlreadyRunning(RuntimeError):
    """Another worker holds the embedded database."""


@contextmanager
def single_worker_lock(runtime: Runtime) -> Iterator[None]:
    """On SQLite, refuse a second worker on the same database file; elsewhere do nothing."""
    if not is_sqlite(runtime.engine):
        yield
        return
    database = make_url(runtime.settings.database_url).database or "nurture.db"
    lock_path = Path(f"{database}.worker.lock")
    handle: IO[str] = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise WorkerAlreadyRunning(
            f"a worker ({holder}) is already running on the SQLite database {database}. "
            "SQLite supports one worker; to run several, use PostgreSQL "
            "(NURTURE_DATABASE_URL=postgresql://…)."
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class WorkerPass:
    """One pass of the worker, in the order that keeps its parts consistent: the marketer
    files first (campaigns, then the sales team before anything that may hand a lead off,
    then ICP and readiness, then the scoring model and the temperatures that cooled), then
    the SLA's reminders and escalations, then the engine's tick, which sends what they
    queued. ``nurture worker`` runs one every ``NURTURE_TICK_SECONDS``; ``nurture tick``
    runs one and exits.

    ``on_report`` receives each file sync's report (default: the log). With ``hits`` (``nurture
    tick``; the worker runs its hit processor as a job of its own, every second), tracking
    hits become events right after the files are synced, so a hand-raise is handed off under
    the current team and readiness files; a failure there is logged and the pass goes on to
    send.
    """

    def __init__(
        self,
        runtime: Runtime,
        engine: Engine | None = None,
        *,
        on_report: Callable[[Any], None] | None = None,
        hits: HitProcessor | None = None,
    ) -> None:
        self.runtime = runtime
        self.engine = engine or Engine(runtime)
        self.on_report = on_report
        self.hits = hits
        self.watchers = (
            CampaignWatcher(runtime, on_report),
            TeamWatcher(runtime, on_report),
            QualificationWatcher(runtime, on_report),
            CostsWatcher(runtime, on_report),
        )
        self.scoring = ScoringWatcher(runtime, on_report)

    def run(self, now: datetime) -> TickReport:
        """Sync changed files, process hits (if asked), cool scores, run the SLA, then tick
        the engine."""
        for watcher in self.watchers:
            watcher.sync_if_changed(now)
        if self.hits is not None:
            try:
                self.hits.run_once(now)
            except Exception:
                # The hits stay unprocessed in the database for the next pass; the email
                # that is due must not wait for them.
                log.exception("tracking hits could not be processed; they wait for the next pass")
        # Scores decay between ticks: temperatures that dropped switch tracks first.
        self.scoring.tick(now)
        # SLA reminders and escalations queue emails this same tick sends.
        sla = run_sla(self.runtime, now)
        if sla.anything:
            (self.on_report or log.info)(sla)
        return self.engine.tick(now)

    def close(self) -> None:
        """Close the engine's connections."""
        self.engine.close()


def run_worker(
    runtime: Runtime,
    *,
    engine: Engine | None = None,
    on_tick: Callable[[TickReport], None] | None = None,
    senders: int = 1,
) -> None:
    """Run ticks every ``settings.tick_seconds`` until SIGINT/SIGTERM.

    ``senders`` > 1 (PostgreSQL only) adds that many minus one send-only processes.
    """
    if senders > 1 and is_sqlite(runtime.engine):
        raise WorkerAlreadyRunning(
            "SQLite supports one sending process; --senders needs PostgreSQL "
            "(NURTURE_DATABASE_URL=postgresql://…)."
        )
    with single_worker_lock(runtime):
        pool = SenderPool(runtime.settings, senders - 1) if senders > 1 else None
        one_pass = WorkerPass(runtime, engine)
        # The jobs' thread pool, APScheduler's default, held here so that stopping can wait
        # for the jobs running when the signal came (see the end of this function).
        jobs = ThreadPoolExecutor()
        scheduler = BlockingScheduler(timezone=UTC, executors={"default": jobs})
        # One gate for every job: a database outage is logged once, not once per job and
        # run, and the jobs wait out its back-off together (nurture.platform.outage).
        gate = OutageGate()

        def tick() -> None:
            try:
                report = gate.run(lambda: one_pass.run(instance_now(runtime)))
            except Exception:
                # A failed tick is logged and the next one tries again: the work stays due
                # in the database, nothing is lost.
                log.exception("tick failed; retrying at the next tick")
                return
            if report is None:
                return
            if on_tick:
                on_tick(report)
            elif report.claimed or report.retried:
                log.info("%s", report)

        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=runtime.settings.tick_seconds),
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )

        # Tracking hits captured by `nurture serve` become events here too (when serve's own
        # processor threads are busy or stopped); APScheduler logs a failed pass.
        hits = HitProcessor(runtime)
        scheduler.add_job(
            lambda: gate.run(lambda: hits.run_once(instance_now(runtime))),
            IntervalTrigger(seconds=1),
            id="tracking-hits",
            max_instances=1, coalesce=True,
        )  # fmt: skip

        # Handoff webhooks: their own job, so a slow receiver never delays a tick.
        scheduler.add_job(
            lambda: gate.run(lambda: deliver_webhooks(runtime, utcnow())),
            IntervalTrigger(seconds=2),
            id="webhooks", max_instances=1, coalesce=True,
        )  # fmt: skip

        # The campaign results' roll-up: what the send and tracking paths queued (reports
        # add what is still queued themselves, so this only keeps their reading short).
        scheduler.add_job(
            lambda: gate.run(lambda: roll_up_campaign_results(runtime)),
            IntervalTrigger(seconds=ROLLUP_SECONDS),
            id="email-rollup", max_instances=1, coalesce=True,
        )  # fmt: skip

        def purge_now() -> tuple[int, int]:
            with transaction(runtime.sessions) as session:
                return purge_expired(session, runtime.settings, now=utcnow())

        def purge() -> None:
            done = gate.run(purge_now)
            if done is None:
                return
            purged, deliveries = done
            if purged:
                log.info("privacy: purged raw tracking data from %s rows", purged)
            if deliveries:
                log.info("privacy: deleted %s old webhook deliveries", deliveries)

        # NURTURE_TRACKING_RETENTION: raw IPs and user agents older than it go, daily; so do
        # finished webhook deliveries older than NURTURE_WEBHOOK_RETENTION.
        scheduler.add_job(
            purge, IntervalTrigger(hours=24), id="privacy-purge", max_instances=1, coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(minutes=5),
        )  # fmt: skip

        def digests() -> None:
            result = gate.run(lambda: send_due_digests(runtime, utcnow()))
            if result is not None and result.anything:
                log.info("%s", result)

        # The weekly report digest leaves on Mondays from 07:00 UTC; a pass every quarter of
        # an hour finds it due (and retries a refused one), and sends each week once.
        scheduler.add_job(
            digests, IntervalTrigger(minutes=15), id="report-digest", max_instances=1,
            coalesce=True, next_run_time=datetime.now(UTC) + timedelta(minutes=1),
        )  # fmt: skip

        def stop(signum: int, _frame: object) -> None:
            log.info("signal %s: finishing the current tick and stopping", signum)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if pool is not None:
            pool.start()
        try:
            scheduler.start()
        finally:
            # The signal handler runs in the scheduler's loop and cannot wait; the tick it
            # interrupted finishes here, before the runtime closes and the interpreter
            # exits (a tick cut off by the exit could not hand its outcomes to the writer).
            jobs.shutdown(wait=True)
            if pool is not None:
                pool.stop()
            one_pass.close()

"""Running the demo: a fresh embedded instance, the bundled configuration, the sample
leads, and the simulated weeks, hour by hour."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nurture import wiring
from nurture.analytics.costs import sync_costs_file
from nurture.campaigns.services import sync_campaign_files
from nurture.demo.arrivals import read_arrivals
from nurture.demo.brand import with_demo_brand
from nurture.demo.costs import enter_demo_costs
from nurture.demo.report import DemoResult
from nurture.demo.revenue import book_upsells
from nurture.demo.simulation import Simulation
from nurture.handoff.sla import SlaPolicy
from nurture.handoff.team_sync import sync_team_file
from nurture.leads.csv_import import import_leads_csv
from nurture.platform import migrate
from nurture.platform.config import Settings
from nurture.platform.runtime import Runtime
from nurture.qualification.watch import sync_qualification_files
from nurture.scoring.watch import sync_scoring_file
from nurture.sending.engine import Engine
from nurture.sending.tick import TickReport
from nurture.tracking.clock import set_simulated_clock

# The sample leads the demo imports (with a few rows that are rejected on purpose), and
# the people who arrive through the website's forms during the simulated weeks; a language
# with people of its own has them in a folder of that name (data/pl/).
DEMO_DATA = Path(__file__).resolve().parent / "data"
DEMO_LOCALES = ("en", *sorted(path.name for path in DEMO_DATA.iterdir() if path.is_dir()))


def demo_data(locale: str) -> Path:
    """The folder of the demo's people for ``locale`` (``en``: the international sample)."""
    if locale not in DEMO_LOCALES:
        raise ValueError(f"no demo in {locale!r}: choose one of {', '.join(DEMO_LOCALES)}")
    return DEMO_DATA if locale == "en" else DEMO_DATA / locale


def demo_settings(base: Settings, locale: str = "en") -> Settings:
    """The demo's own instance folder and SQLite database, beside the normal instance, so it
    never touches real data; emails and pages in ``locale`` for whoever has no language of
    their own (the reps, in the simulation).

    Sales has four working hours to answer a handoff (the default is one): the simulated
    weeks end on the hour, so with one hour a lead handed off at the end would be overdue
    before anyone signed in to see it waiting. A missed deadline is escalated to the
    manager only (the default), so the lead stays in its late owner's inbox until the
    manager reassigns it. The brand is the demo company's, unless the environment names one.

    The demo is a simulated-time instance (docs/tracking.md#simulated-time): its clock is
    left at the end of the simulated weeks, so a click on one of its emails, or a
    `nurture tick --now` later on, goes on from there."""
    instance = base.instance_path / "demo"
    return with_demo_brand(base).with_overrides(
        instance_path=instance,
        database_url=f"sqlite:///{instance / 'nurture.db'}",
        smtp_url=None,
        simulated_time=True,
        tick_seconds=3600.0,
        webhook_urls=(),
        sla=SlaPolicy(accept_within=timedelta(hours=4), escalate=("manager",)),
        default_locale=locale,
    )


def simulation_start(today: datetime, weeks: int) -> datetime:
    """The hour ``weeks`` weeks before ``today``: the simulated weeks end now, so the web
    app's "today" and "last 7 days" show them, and a run is repeatable for a given hour."""
    now = today.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(weeks=weeks)


def _sync_configuration(runtime: Runtime, now: datetime, result_lines: list[str]) -> object:
    """Campaigns, scoring model, sales team, ICP, readiness and costs, as `nurture campaigns
    sync` loads them."""

    sync = sync_campaign_files(runtime, now=now)
    result_lines.append(f"campaigns: {sync}")
    for report in (
        sync_scoring_file(runtime, now=now),
        sync_team_file(runtime, now=now),
        *sync_qualification_files(runtime, now=now),
        sync_costs_file(runtime, now=now),
    ):
        result_lines.extend(report.lines())
    return sync


def run_demo(
    settings: Settings,
    *,
    weeks: int,
    today: datetime,
    on_progress: Callable[[str], None] = lambda line: None,
    seed: int = 7,
    locale: str = "en",
) -> DemoResult:
    """Set up a fresh demo instance and simulate ``weeks`` of nurturing, hour by hour, with
    the people of ``locale`` (``demo_data``)."""
    data = demo_data(locale)
    wiring.connect()
    if settings.instance_path.exists():
        shutil.rmtree(settings.instance_path)
    settings.instance_path.mkdir(parents=True)
    runtime = Runtime.from_settings(settings)
    try:
        migrate.upgrade(runtime.engine)
        start = simulation_start(today, weeks)
        setup: list[str] = []
        # The ICP first: imported leads are graded as they arrive.
        sync = _sync_configuration(runtime, start, setup)
        setup.extend(enter_demo_costs(runtime, start, start + timedelta(weeks=weeks)))
        for line in setup:
            on_progress(line)
        summary = import_leads_csv(
            runtime.sessions,
            data / "leads.csv",
            now=start,
            mapping=None,
            rejects_path=settings.instance_path / "leads.rejects.csv",
            default_timezone=settings.default_timezone,
            source="demo-import",
            extra_columns="attributes",
            progress=False,
        )
        on_progress(f"leads: {summary}")
        result = DemoResult(settings.instance_path, start, start, summary, sync, setup=setup)
        end = start + timedelta(weeks=weeks)
        simulation = Simulation(runtime, random.Random(seed), result)  # noqa: S311
        simulation.expect(read_arrivals(data / "arrivals.csv"), start, end)
        engine = Engine(runtime)
        try:
            now = start
            while now <= end:
                simulation.before_tick(now)
                report = engine.tick(now)
                result.ticks += 1
                _add(result.totals, report)
                simulation.after_tick(now)
                if now.weekday() == start.weekday() and now.hour == start.hour:
                    on_progress(
                        f"week of {now:%Y-%m-%d}: {result.totals.sent} emails so far, "
                        f"{result.arrivals} new leads from the website, "
                        f"{simulation.handoffs_seen} handed to sales"
                    )
                now += timedelta(hours=1)
            result.end = end
        finally:
            engine.close()
        # What the demo's web app and later commands on its instance take as "now".
        set_simulated_clock(runtime, end)
        on_progress(f"revenue: {book_upsells(runtime, end)} upsells booked after won deals")
        return result
    finally:
        runtime.close()


def _add(total: TickReport, report: TickReport) -> None:
    for name in (
        "claimed",
        "sent",
        "deferred",
        "failed",
        "retried",
        "completed",
        "exited",
        "batches",
    ):
        setattr(total, name, getattr(total, name) + getattr(report, name))

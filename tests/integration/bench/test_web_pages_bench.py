"""The page benchmark (bench/web_pages.py) keeps working: a tiny database built by its own
loader (with the reports' roll-ups equal to the history it loaded), every discovered page
answering 200, and its plan check catching a sequential scan."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nurture.analytics import (
    campaign_entries,
    email_rollup_rebuild,
    first_touches,
    rollup,
    stay_columns,
)
from nurture.models import CampaignEntry, LeadFirstTouch, StageChange
from nurture.platform.db import make_engine

BENCH = Path(__file__).resolve().parents[3] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import benchlib  # noqa: E402
import web_data  # noqa: E402
import web_pages  # noqa: E402

from tests.conftest import POSTGRES_URL  # noqa: E402

pytestmark = pytest.mark.postgres
TINY = web_data.Sizes(leads=300, accounts=40, events=3000, campaigns=3)


@pytest.fixture(scope="module")
def bench_database(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A tiny benchmark database beside the test database; dropped afterwards."""
    server = make_url(POSTGRES_URL)
    name = f"{server.database}_web_pages"
    # The benchmark's helpers create databases through the server's maintenance database.
    maintenance = server.set(database="postgres").render_as_string(hide_password=False)
    monkeypatch_module.setattr(benchlib, "POSTGRES_URL", maintenance)
    url = web_pages.prepare(name, TINY, rebuild=True)
    yield name, url
    web_data.drop_database(name)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_discovered_page_answers_and_is_explained(bench_database):
    name, url = bench_database
    run = web_pages.run_pages(url, name, TINY, requests=5, warmup=1, analyze=False)

    assert {page.endpoint for page in run.pages} >= {"ui_home.index", "ui_account.account"}
    assert [(p.name, p.status) for p in run.pages if p.status != 200] == []
    assert all(len(page.ms) == 5 for page in run.pages)
    home = next(page for page in run.pages if page.endpoint == "ui_home.index")
    assert home.queries > 0 and home.plans
    assert run.references["SELECT 1"]["p95"] > 0


def test_the_plan_check_flags_a_sequential_scan_of_leads(bench_database):
    _, url = bench_database
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            plan = conn.execute(
                text("EXPLAIN (FORMAT JSON) SELECT * FROM leads WHERE lower(title) LIKE '%x%'")
            ).scalar()
            indexed = conn.execute(
                text("EXPLAIN (FORMAT JSON) SELECT * FROM leads WHERE id = 1")
            ).scalar()
    finally:
        engine.dispose()

    assert web_pages.seq_scans(plan[0]) == ["leads"]
    assert web_pages.seq_scans(indexed[0]) == []


def test_the_loaded_history_has_its_roll_ups_filled(bench_database):
    # The loader copies rows with the triggers off, so each roll-up is rebuilt after it;
    # one it forgot would be empty and every report reading it wrong.
    _, url = bench_database
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(CampaignEntry))
            assert campaign_entries.count_differences(session) == 0
            assert session.scalar(select(func.count()).select_from(LeadFirstTouch))
            assert first_touches.count_differences(session) == 0
            assert rollup.count_differences(session) == 0
            # The stage changes' stays come with the rows copied (their triggers are off).
            stays = select(func.count()).where(StageChange.stay_stage.is_not(None))
            assert session.scalar(stays)
            assert stay_columns.count_differences(session) == 0
            assert set(email_rollup_rebuild.count_differences(session).values()) == {0}
    finally:
        engine.dispose()

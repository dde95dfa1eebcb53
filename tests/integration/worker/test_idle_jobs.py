"""On an idle tick the worker's periodic jobs only look: score cooling and the SLA pass read
whether anything is due and open no write transaction (on SQLite, none of the write locks
the tracking capture waits for; on PostgreSQL, no row locks), yet still act when something
is due (tests/integration/scoring, tests/integration/handoff/test_sla.py)."""

from __future__ import annotations

from datetime import timedelta

from nurture.handoff.sla import run_due as run_sla
from nurture.models import Lead
from nurture.platform.db import transaction
from nurture.scoring.watch import ScoringWatcher
from nurture.sending.engine import Engine
from nurture.worker.rollups import roll_up_campaign_results
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    statements,
    sync_fixture_campaigns,
)


def writes(seen: list[str]) -> list[str]:
    return [
        s
        for s in seen
        if s.startswith("BEGIN IMMEDIATE") or "FOR UPDATE" in s or "pg_advisory" in s
    ]


def test_idle_cooling_and_sla_pass_only_read(runtime):
    lead_id = add_lead(runtime, "warm@acme.example")
    with transaction(runtime.sessions) as session:
        session.get(Lead, lead_id).temperature_cools_at = T0 + timedelta(days=3)

    with statements(runtime) as seen:
        assert ScoringWatcher(runtime).cool(T0) == []
    assert seen and writes(seen) == []

    with statements(runtime) as seen:
        assert not run_sla(runtime, T0).anything
    assert seen and writes(seen) == []


def test_an_idle_roll_up_pass_only_reads_and_a_queued_lead_is_still_rolled_up(runtime):
    roll_up_campaign_results(runtime)  # the first pass computes the lead groups
    with statements(runtime) as seen:
        assert roll_up_campaign_results(runtime) == 0
    assert seen and writes(seen) == []

    sync_fixture_campaigns(runtime)
    enrol(runtime, add_lead(runtime, "rolled@acme.example"))
    assert Engine(runtime).tick(T0).sent == 1
    assert roll_up_campaign_results(runtime) == 1

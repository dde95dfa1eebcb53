"""Several workers on one database: PostgreSQL shares the work without a double send;
SQLite refuses a second worker with a clear message."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from nurture.cli import (
    cli,
    worker_cmd,  # noqa: F401  (registers the commands)
)
from nurture.models import Campaign, Enrollment, Lead, Message
from nurture.platform.db import is_sqlite, transaction
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from nurture.worker import (
    SenderPool,
    WorkerAlreadyRunning,
    WorkerPass,
    run_worker,
    single_worker_lock,
)
from tests.integration.engine_support import FIXTURES, T0, add_lead, enrol, sync_fixture_campaigns


def _seed(runtime: Runtime, count: int) -> None:
    with transaction(runtime.sessions) as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "test-drip"))
        session.execute(
            insert(Lead),
            [
                {
                    "email": f"lead{i}@load.example",
                    "stage": "lead",
                    "temperature": "cold",
                    "consent_status": "granted",
                    "lawful_basis": "consent",
                }
                for i in range(count)
            ],
        )
        lead_ids = session.scalars(select(Lead.id).order_by(Lead.id)).all()
        session.execute(
            insert(Enrollment),
            [
                {
                    "lead_id": lead_id,
                    "campaign_id": campaign.id,
                    "version_id": campaign.active_version_id,
                    "track": "cold",
                    "next_due_at": T0,
                    "enrolled_at": T0,
                }
                for lead_id in lead_ids
            ],
        )


@pytest.mark.postgres
def test_two_workers_share_the_work_and_never_send_twice(runtime, smtp_sink):
    sync_fixture_campaigns(runtime)
    count = 1200
    _seed(runtime, count)
    settings = runtime.settings.with_overrides(smtp_url=smtp_sink.url, batch_size=40)
    barrier = threading.Barrier(2)
    reports = []
    errors = []

    def worker() -> None:
        rt = Runtime.from_settings(settings)
        engine = Engine(rt)
        try:
            barrier.wait()
            reports.append(engine.tick(T0))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            engine.close()
            rt.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sum(r.sent for r in reports) == count
    assert all(r.claimed > 0 for r in reports), "both workers should have taken a share"
    recipients = [message["To"] for message in smtp_sink.received]
    assert len(recipients) == count == len(set(recipients))
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == count
        per_enrollment = (
            session.execute(
                select(func.count()).select_from(Message).group_by(Message.enrollment_id)
            )
            .scalars()
            .all()
        )
    assert set(per_enrollment) == {1}


def test_second_worker_on_sqlite_is_refused_with_a_clear_message(app, runtime):
    if not is_sqlite(runtime.engine):
        pytest.skip("the single-worker rule applies to SQLite only")

    with single_worker_lock(runtime):
        second = single_worker_lock(runtime)
        with pytest.raises(WorkerAlreadyRunning, match="SQLite supports one worker"):
            second.__enter__()
        result = app.test_cli_runner().invoke(cli, ["tick", "--now", "2026-11-24T09:00"])
    assert result.exit_code == 1
    assert "already running" in result.output and "PostgreSQL" in result.output


@pytest.mark.postgres
def test_sender_processes_share_the_sending_and_send_each_email_once(runtime, smtp_sink):
    import time

    sync_fixture_campaigns(runtime)
    count = 300
    _seed(runtime, count)
    # The senders tick at the real clock; the seeded enrolments are due since T0.
    settings = runtime.settings.with_overrides(
        smtp_url=smtp_sink.url, batch_size=20, tick_seconds=0.2
    )
    pool = SenderPool(settings, 2)
    pool.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with runtime.sessions() as session:
                sent = session.scalar(
                    select(func.count()).select_from(Message).where(Message.status == "sent")
                )
            if sent == count:
                break
            time.sleep(0.2)
        assert pool.alive == 2
    finally:
        pool.stop()
    assert pool.alive == 0
    with runtime.sessions() as session:
        distinct = session.scalar(select(func.count(func.distinct(Message.enrollment_id))))
        total = session.scalar(select(func.count()).select_from(Message))
    assert (sent, distinct, total) == (count, count, count)
    assert len(smtp_sink.received) == count


def test_several_senders_are_refused_on_sqlite(runtime):
    if not is_sqlite(runtime.engine):
        pytest.skip("the single-writer rule applies to SQLite only")

    with pytest.raises(WorkerAlreadyRunning, match="--senders needs PostgreSQL"):
        run_worker(runtime, senders=2)


def test_a_pass_still_sends_when_tracking_hits_cannot_be_processed(settings, caplog):
    runtime = Runtime.from_settings(settings.with_overrides(campaigns_path=FIXTURES))
    try:
        sync_fixture_campaigns(runtime)
        enrol(runtime, add_lead(runtime, "ada@example.com"))

        class UnreachableHits:
            """A hit processor whose database refuses (what `nurture tick` hands the pass)."""

            def run_once(self, now):
                raise RuntimeError("the hits table could not be read")

        one_pass = WorkerPass(runtime, hits=UnreachableHits())
        try:
            with caplog.at_level("ERROR", logger="nurture.worker.loop"):
                report = one_pass.run(T0 + timedelta(minutes=1))
        finally:
            one_pass.close()
    finally:
        runtime.close()
    assert report.sent == 1
    assert "tracking hits could not be processed" in caplog.text

"""Two workers that see the same edited file at once (PostgreSQL, where several workers run):
the second waits for the first and finds its version, instead of failing the tick on the
unique checksum and printing a traceback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from nurture.campaigns.sync import sync_campaigns
from nurture.models import CampaignVersion, QualificationVersion
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.qualification.versions import sync_file
from tests.integration.engine_support import FIXTURES

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _wait_until_blocked(runtime: Runtime, pid: int) -> None:
    deadline = time.monotonic() + 10
    with runtime.engine.connect() as connection:
        while True:
            waiting = connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                {"pid": pid},
            )
            if waiting:
                return
            assert time.monotonic() < deadline, "the second sync never waited for the first"
            time.sleep(0.02)
            connection.rollback()


def _second(
    runtime: Runtime, work: Callable[[Session], object], started: list[int], out: list[object]
) -> None:
    try:
        with transaction(runtime.sessions) as session:
            started.append(int(session.scalar(text("SELECT pg_backend_pid()"))))
            out.append(work(session))
    except Exception as exc:  # handed to the test thread, which fails with it
        out.append(exc)


def _twice_at_once(runtime: Runtime, sync: Callable[[Session], object]) -> tuple[Any, Any]:
    """``sync`` in a transaction held open until ``sync`` in a second one (another worker)
    is waiting on it; both results, the second once the first committed."""
    started: list[int] = []
    out: list[object] = []
    with transaction(runtime.sessions) as session:
        first = sync(session)
        other = threading.Thread(target=_second, args=(runtime, sync, started, out))
        other.start()
        while not started:
            time.sleep(0.01)
        _wait_until_blocked(runtime, started[0])
    other.join(timeout=30)
    assert len(out) == 1 and not isinstance(out[0], Exception), out
    return first, out[0]


def test_two_syncs_of_one_new_readiness_file_make_one_version(runtime):
    readiness = ROOT / "campaigns" / "readiness.yaml"
    # The other worker reads "nothing active" and tries to create the same version.
    first, second = _twice_at_once(
        runtime, lambda session: sync_file(session, "readiness", readiness, now=T0)
    )
    assert first.action == "created"
    assert second.action == "unchanged" and second.version == 1
    with transaction(runtime.sessions) as session:
        versions = session.scalar(
            select(func.count())
            .select_from(QualificationVersion)
            .where(QualificationVersion.kind == "readiness")
        )
    assert versions == 1


def test_two_syncs_of_one_campaign_folder_make_one_version_each(runtime):
    first, second = _twice_at_once(
        runtime,
        lambda session: sync_campaigns(
            session, FIXTURES, now=T0, template_exists=lambda _name: True
        ),
    )
    assert {entry.action for entry in first.entries} == {"created"}
    assert {entry.action for entry in second.entries} == {"unchanged"}
    with transaction(runtime.sessions) as session:
        numbers = session.scalars(select(CampaignVersion.number)).all()
    assert numbers and set(numbers) == {1}

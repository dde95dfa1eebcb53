"""Outcomes are committed without waiting for the disk on PostgreSQL (set once per
connection of their own pool); every other write still waits for it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from nurture.platform.db import is_sqlite


@pytest.mark.postgres
def test_only_the_outcome_sessions_skip_waiting_for_the_disk(runtime):
    with runtime.unsynced_sessions()() as session:
        assert session.scalar(text("SHOW synchronous_commit")) == "off"
    with runtime.sessions() as session:
        assert session.scalar(text("SHOW synchronous_commit")) == "on"
    # One pool, kept for the process: not a new one per outcome group.
    assert runtime.unsynced_sessions() is runtime.unsynced_sessions()


def test_on_sqlite_the_outcome_sessions_are_the_usual_ones(runtime):
    if not is_sqlite(runtime.engine):
        pytest.skip("SQLite only")

    assert runtime.unsynced_sessions() is runtime.sessions

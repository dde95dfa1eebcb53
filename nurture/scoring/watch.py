"""The worker's side of scoring: sync the scoring file when it changes, and cool the
temperatures of leads whose scores decayed below their band since the last tick."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from nurture.files.event_catalogue import event_catalogue
from nurture.files.watch import FileWatcher
from nurture.models import Lead
from nurture.platform.db import peek, transaction
from nurture.platform.runtime import Runtime
from nurture.scoring.service import ScoreChange, cool_temperatures
from nurture.scoring.versions import ScoringSyncReport, sync_scoring


def sync_scoring_file(runtime: Runtime, *, now: datetime) -> ScoringSyncReport:
    """Load the configured scoring file into the database (one transaction)."""
    with transaction(runtime.sessions) as session:
        return sync_scoring(
            session,
            runtime.settings.scoring_file,
            now=now,
            catalogue=event_catalogue(runtime.settings),
        )


class ScoringWatcher(FileWatcher[ScoringSyncReport]):
    """Re-syncs the scoring file whenever it changes on disk (a broken edit is reported and
    the previous version stays active), and cools temperatures on every tick."""

    def __init__(
        self, runtime: Runtime, on_report: Callable[[ScoringSyncReport], None] | None = None
    ):
        super().__init__(
            lambda: {"scoring": runtime.settings.scoring_file},
            lambda _kind, _path, now: sync_scoring_file(runtime, now=now),
            on_report,
            depends_on=lambda: runtime.settings.events_file,
        )
        self.runtime = runtime

    def cool(self, now: datetime) -> list[ScoreChange]:
        """Rescore the leads whose temperature is due to drop by ``now`` (one transaction
        per batch, until none is left)."""
        changes: list[ScoreChange] = []
        with peek(self.runtime.engine) as connection:
            # Most ticks no temperature is due to drop: a plain read, no write transaction.
            due = select(Lead.id).where(Lead.temperature_cools_at <= now).limit(1)
            if connection.execute(due).first() is None:
                return changes
        while True:
            with transaction(self.runtime.sessions) as session:
                batch = cool_temperatures(session, now, limit=self.runtime.settings.batch_size)
            changes.extend(batch)
            if len(batch) < self.runtime.settings.batch_size:
                return changes

    def tick(self, now: datetime) -> list[ScoreChange]:
        """Both, in order: the newest model first, then the cooling it decides."""
        self.sync_if_changed(now)
        return self.cool(now)

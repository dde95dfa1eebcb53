"""The worker's side of qualification: re-sync the ICP and readiness files when they change
on disk (a broken edit is reported and the previous version stays active)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from nurture.files.versions import ChangeWatch
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.qualification.versions import QualificationSyncReport, sync_file

log = logging.getLogger(__name__)


def qualification_files(runtime: Runtime) -> dict[str, Path]:
    """The configured file of each kind."""
    return {"icp": runtime.settings.icp_file, "readiness": runtime.settings.readiness_file}


def sync_qualification_files(runtime: Runtime, *, now: datetime) -> list[QualificationSyncReport]:
    """Load the ICP and readiness files into the database (one transaction each)."""
    reports = []
    for kind, path in qualification_files(runtime).items():
        with transaction(runtime.sessions) as session:
            reports.append(sync_file(session, kind, path, now=now))
    return reports


class QualificationWatcher:
    """Syncs each qualification file whenever it changed since the last look."""

    def __init__(
        self,
        runtime: Runtime,
        on_report: Callable[[QualificationSyncReport], None] | None = None,
    ):
        self.runtime = runtime
        self.on_report = on_report or _log_report
        self._watch = ChangeWatch()

    def sync_if_changed(self, now: datetime) -> list[QualificationSyncReport]:
        """Sync the files that changed; returns their reports."""
        reports = []
        for kind, path in qualification_files(self.runtime).items():
            report = self._watch.sync_if_changed(kind, path, partial(self._sync, kind, path, now))
            if report is not None:
                reports.append(report)
        return reports

    def _sync(self, kind: str, path: Path, now: datetime) -> QualificationSyncReport:
        # Reported inside the watched sync: if reporting fails, the edit is seen again.
        with transaction(self.runtime.sessions) as session:
            report = sync_file(session, kind, path, now=now)
        self.on_report(report)
        return report


def _log_report(report: QualificationSyncReport) -> None:
    if report.ok:
        log.info("%s", report)
    else:
        log.warning("%s", report)

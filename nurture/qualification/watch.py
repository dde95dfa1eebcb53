"""The worker's side of qualification: re-sync the ICP and readiness files when they change
on disk (a broken edit is reported and the previous version stays active)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from nurture.files.event_catalogue import event_catalogue
from nurture.files.watch import FileWatcher
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.qualification.versions import QualificationSyncReport, sync_file


def qualification_files(runtime: Runtime) -> dict[str, Path]:
    """The configured file of each kind."""
    return {"icp": runtime.settings.icp_file, "readiness": runtime.settings.readiness_file}


def sync_qualification_files(runtime: Runtime, *, now: datetime) -> list[QualificationSyncReport]:
    """Load the ICP and readiness files into the database (one transaction each)."""
    reports = []
    for kind, path in qualification_files(runtime).items():
        with transaction(runtime.sessions) as session:
            reports.append(
                sync_file(session, kind, path, now=now, catalogue=event_catalogue(runtime.settings))
            )
    return reports


class QualificationWatcher(FileWatcher[QualificationSyncReport]):
    """Syncs each qualification file whenever it changed since the last look."""

    def __init__(
        self,
        runtime: Runtime,
        on_report: Callable[[QualificationSyncReport], None] | None = None,
    ):
        super().__init__(
            lambda: qualification_files(runtime),
            partial(_sync, runtime),
            on_report,
            depends_on=lambda: runtime.settings.events_file,
        )


def _sync(runtime: Runtime, kind: str, path: Path, now: datetime) -> QualificationSyncReport:
    with transaction(runtime.sessions) as session:
        return sync_file(session, kind, path, now=now, catalogue=event_catalogue(runtime.settings))

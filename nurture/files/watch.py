"""Watching marketer files: re-sync one into the database when it changes on disk.

The worker looks at every file it syncs (campaign folder, scoring model, ICP, readiness,
sales team) on every tick, and ``nurture tick`` once; a file that changed is synced (a
broken edit is reported with file:line and the previous valid version stays active).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

Stamp = tuple[Any, ...] | None


class SyncReport(Protocol):
    """What every file sync reports: whether it worked, and what it did."""

    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=SyncReport)


def file_stamp(path: Path) -> Stamp:
    """The file's (mtime, size), or None when it cannot be stat-ed."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime, stat.st_size)


def folder_stamp(path: Path) -> Stamp:
    """(name, mtime, size) of every YAML file in the folder; empty for a missing folder, so
    a missing campaign folder is reported once, not on every tick."""
    if not path.is_dir():
        return ()
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return tuple((str(f), *(file_stamp(f) or ())) for f in files)


class ChangeWatch:
    """Tells when files changed on disk since they were last synced.

    A file that cannot be stat-ed counts as changed every time, so a missing file keeps
    being reported; a stamp is remembered only after its sync returned, so a sync that
    raised is retried on the next look.
    """

    def __init__(self, stamp: Callable[[Path], Stamp] = file_stamp) -> None:
        self._stamp = stamp
        self._stamps: dict[Hashable, Stamp] = {}

    def sync_if_changed(self, key: Hashable, path: Path, sync: Callable[[], T]) -> T | None:
        """``sync()`` when the file at ``path`` changed since the last sync of ``key``;
        None when it did not change (nothing ran)."""
        current = self._stamp(path)
        if current is not None and key in self._stamps and self._stamps[key] == current:
            return None
        result = sync()
        self._stamps[key] = current
        return result


def log_sync_report(report: SyncReport) -> None:
    """The worker's default: a failed sync is a warning; a sync that changed nothing is not
    worth a line."""
    if not report.ok:
        log.warning("%s", report)
    elif getattr(report, "action", None) != "unchanged":
        log.info("%s", report)


class FileWatcher(Generic[R]):
    """Syncs each watched file when it changed since the last look.

    ``paths()`` names the files (read on every look, so settings in tests may change);
    ``sync(key, path, now)`` loads one into the database and returns its report, which goes
    to ``on_report`` (by default, the log). ``depends_on()`` names a file the sync reads
    too (the event types file, which says what the files may name): a change of it
    re-syncs every watched file.
    """

    def __init__(
        self,
        paths: Callable[[], Mapping[str, Path]],
        sync: Callable[[str, Path, datetime], R],
        on_report: Callable[[R], None] | None = None,
        *,
        stamp: Callable[[Path], Stamp] = file_stamp,
        depends_on: Callable[[], Path] | None = None,
    ) -> None:
        self._paths = paths
        self._sync = sync
        self.on_report: Callable[[R], None] = on_report or log_sync_report
        if depends_on is not None:
            stamp = partial(_with_dependency, stamp, depends_on)
        self._watch = ChangeWatch(stamp)

    def sync_if_changed(self, now: datetime) -> list[R]:
        """Sync the files that changed; their reports (empty when none did)."""
        reports = []
        for key, path in self._paths().items():
            report = self._watch.sync_if_changed(key, path, partial(self._report, key, path, now))
            if report is not None:
                reports.append(report)
        return reports

    def _report(self, key: str, path: Path, now: datetime) -> R:
        # Reported inside the watched sync: if reporting fails, the edit is seen again.
        report = self._sync(key, path, now)
        self.on_report(report)
        return report


def _with_dependency(
    stamp: Callable[[Path], Stamp], depends_on: Callable[[], Path], path: Path
) -> Stamp:
    own = stamp(path)
    return None if own is None else (*own, file_stamp(depends_on()))

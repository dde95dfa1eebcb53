"""A marketer-edited file into the database: one immutable version per valid edit, one active.

Shared by the scoring file (``nurture.scoring.versions``), the sales team file
(``nurture.handoff.team_sync``) and the ICP/readiness files
(``nurture.qualification.versions``); campaign files keep their own, richer sync. The file
is the source of truth and the rows are the record of what ran: a valid file whose text is
new becomes the next version and the active one, a file with the exact text of an older
version makes that version active again, and a broken file changes nothing, so a typo never
stops the engine. What each kind does *after* a version becomes active (rescore notes,
mirroring reps) stays with the kind.

The version tables share their columns: ``number``, ``checksum``, ``name``,
``source_path``, ``source``, ``spec``, ``is_active``, ``created_at``, ``activated_at``;
``scope`` names the extra columns that split one table into several series (the
qualification table's ``kind``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nurture.files.problems import Problem
from nurture.files.yaml_file import FileLoad
from nurture.platform.db import serialize


class VersionRow(Protocol):
    """A version row of a marketer file (ScoringVersion, SalesTeamVersion, ...)."""

    @property
    def checksum(self) -> str: ...


V = TypeVar("V", bound=VersionRow)
T = TypeVar("T")


class SyncReportText:
    """The people-facing text of a file sync report.

    A mixin for frozen dataclasses with ``action`` (created, activated, unchanged or
    failed), ``path``, ``version``, ``problems`` and ``notes``, and a ``label`` naming the
    file in the headline.
    """

    action: str
    path: str
    version: int | None
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]

    @property
    def label(self) -> str:
        """What the headline calls the file (``scoring``, ``sales team``, ...)."""
        raise NotImplementedError

    @property
    def ok(self) -> bool:
        """True when the file was valid."""
        return self.action != "failed"

    def lines(self) -> list[str]:
        """The report for people: a headline, then notes and problems indented."""
        headline = f"{self.label} {self.action}"
        if self.version is not None:
            headline += f" (version {self.version})"
        return [
            f"{headline}  {self.path}",
            *(f"    {note}" for note in self.notes),
            *(f"    {problem}" for problem in self.problems),
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class FileSyncReport(SyncReportText):
    """What the sync of one file did: ``action`` is created, activated, unchanged or failed.

    Subclasses set ``LABEL``, the name of the file in the headline.
    """

    LABEL = "file"  # a plain class attribute, not a field: no annotation on purpose

    action: str
    path: str
    version: int | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """What the headline calls the file."""
        return self.LABEL


def kept_note(active: Any | None, none_active: str) -> str:
    """The note of a failed sync: which version stays active, or ``none_active`` when none."""
    return f"version {active.number} stays active" if active is not None else none_active


def active_row(session: Session, model: type[V], **scope: Any) -> V | None:
    """The active version row of ``model`` (within ``scope``), or None before the first sync."""
    table: Any = model
    return session.scalar(select(table).where(*_scoped(table, scope), table.is_active.is_(True)))


@dataclass(frozen=True)
class Activation(Generic[V]):
    """What :func:`activate` did: ``action`` is created, activated or unchanged."""

    action: str
    row: V
    notes: list[str]


def activate(
    session: Session,
    model: type[V],
    load: FileLoad[Any],
    *,
    name: str,
    source_path: str,
    now: datetime,
    active: V | None,
    **scope: Any,
) -> Activation[V]:
    """Make the version with the text of ``load`` (a valid file) the active one.

    ``unchanged`` when ``active`` already has that text; ``activated`` when an earlier
    version has it (restored, with a note); ``created`` otherwise, as the next number. Runs
    in the caller's transaction and flushes, so the row has its id.
    """
    table: Any = model
    if active is not None and active.checksum == load.checksum:
        return Activation("unchanged", active, [])
    # Two workers that see the same edit both get here: the second waits for the first,
    # then finds the version it made, instead of failing on the unique checksum.
    serialize(session, f"file-version:{table.__tablename__}:{sorted(scope.items())}")
    scoped = _scoped(table, scope)
    current = session.scalar(
        select(table)
        .where(*scoped, table.is_active.is_(True))
        .execution_options(populate_existing=True)
    )
    if current is not None and current.checksum == load.checksum:
        return Activation("unchanged", current, [])
    existing = session.scalar(select(table).where(*scoped, table.checksum == load.checksum))
    notes: list[str] = []
    if existing is not None:
        row, action = existing, "activated"
        notes.append(f"the file matches version {existing.number} again: restored it")
    else:
        last = session.scalar(select(func.max(table.number)).where(*scoped)) or 0
        row = table(
            **scope,
            number=last + 1,
            checksum=load.checksum,
            name=name,
            source_path=source_path,
            source=load.text,
            spec=load.data or {},
            created_at=now,
        )
        session.add(row)
        action = "created"
    # One active version per series: switch the others off before this one on.
    session.execute(update(table).where(*scoped, table.is_active.is_(True)).values(is_active=False))
    row.is_active = True
    row.activated_at = now
    session.flush()
    return Activation(action, row, notes)


def _scoped(table: Any, scope: dict[str, Any]) -> list[Any]:
    return [getattr(table, column) == value for column, value in scope.items()]


class ParsedVersions(Generic[T]):
    """Parsed values of stored versions, keyed by (version id, checksum), thread-safe.

    A version row never changes once written, so its spec is parsed once; the checksum in
    the key keeps two databases used by one process (tests) from mixing. The cache is
    emptied when it grows past ``limit`` (versions are few; this only bounds a leak).
    """

    def __init__(self, limit: int = 64):
        self._values: dict[tuple[int, str], T] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, version_id: int, checksum: str, parse: Callable[[], T]) -> T:
        """The cached value of the version, or ``parse()`` (outside the lock) stored."""
        key = (version_id, checksum)
        with self._lock:
            value = self._values.get(key)
        if value is not None:
            return value
        value = parse()
        with self._lock:
            if len(self._values) > self._limit:
                self._values.clear()
            self._values[key] = value
        return value

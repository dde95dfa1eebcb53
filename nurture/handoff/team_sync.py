"""The sales team file into the database: one immutable version per valid edit, one active,
and the reps mirrored into ``sales_reps`` rows.

Like the scoring file (``nurture.scoring.versions``): a valid file whose text is new becomes
the next version; a file with the exact text of an older version makes that one active
again; a broken file changes nothing and the report names every problem with its line.
Reps are matched by email: a rep removed from the file keeps its row (old handoffs point at
it) with ``in_team = False``, and is never assigned again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.parser import Problem
from nurture.db import transaction
from nurture.handoff.team import Team
from nurture.handoff.team_parser import load_team_file, parse_team_data
from nurture.models import SalesRep, SalesTeamVersion
from nurture.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamSyncReport:
    """What the sync did: ``action`` is created, activated, unchanged or failed."""

    action: str
    path: str
    version: int | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.action != "failed"

    def lines(self) -> list[str]:
        headline = f"sales team {self.action}"
        if self.version is not None:
            headline += f" (version {self.version})"
        return [
            f"{headline}  {self.path}",
            *(f"    {note}" for note in self.notes),
            *(f"    {problem}" for problem in self.problems),
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def sync_team(session: Session, path: Path | str, *, now: datetime) -> TeamSyncReport:
    """Make the team file at ``path`` the active version if it is valid and new, and mirror
    its reps. Runs in the caller's transaction."""
    resolved = str(Path(path).resolve())
    load = load_team_file(resolved)
    active = active_version(session)
    if not load.ok or load.team is None:
        note = (
            f"version {active.number} stays active"
            if active is not None
            else "no sales team is active yet: handoffs are created without an owner"
        )
        return TeamSyncReport("failed", resolved, None, tuple(load.problems), (note,))
    if active is not None and active.checksum == load.checksum:
        return TeamSyncReport("unchanged", resolved, active.number)
    existing = session.scalar(
        select(SalesTeamVersion).where(SalesTeamVersion.checksum == load.checksum)
    )
    notes: list[str] = []
    if existing is not None:
        version, action = existing, "activated"
        notes.append(f"the file matches version {existing.number} again: restored it")
    else:
        number = (session.scalar(select(func.max(SalesTeamVersion.number))) or 0) + 1
        version = SalesTeamVersion(
            number=number,
            checksum=load.checksum,
            name=load.team.name,
            source_path=resolved,
            source=load.text,
            spec=load.data or {},
            created_at=now,
        )
        session.add(version)
        action = "created"
    session.execute(
        update(SalesTeamVersion).where(SalesTeamVersion.is_active.is_(True)).values(is_active=False)
    )
    version.is_active = True
    version.activated_at = now
    session.flush()
    notes.extend(mirror_reps(session, load.team, now=now))
    return TeamSyncReport(action, resolved, version.number, (), tuple(notes))


def mirror_reps(session: Session, team: Team, *, now: datetime) -> list[str]:
    """Upsert one ``sales_reps`` row per rep of ``team``; mark the others out of the team."""
    rows = {rep.email: rep for rep in session.scalars(select(SalesRep))}
    notes: list[str] = []
    for rep in team.reps:
        row = rows.pop(rep.email, None)
        if row is None:
            row = SalesRep(email=rep.email, created_at=now, last_assigned_seq=0)
            session.add(row)
            notes.append(f"new rep {rep.name} <{rep.email}>")
        row.name = rep.name
        row.title = rep.title
        row.phone = rep.phone
        row.timezone = rep.timezone
        row.working_hours = rep.working_hours.text
        row.territories = list(rep.territories)
        row.segments = sorted(rep.segments)
        row.capacity = rep.capacity
        row.out_of_office_until = rep.out_of_office_until
        row.manager_email = rep.manager_email
        row.active = rep.active
        row.in_team = True
        row.updated_at = now
    for row in rows.values():
        if row.in_team:
            row.in_team = False
            row.updated_at = now
            notes.append(f"{row.name} <{row.email}> left the team file: no new leads")
    session.flush()
    return notes


def active_version(session: Session) -> SalesTeamVersion | None:
    """The active team version row, or None before the first sync."""
    return session.scalar(select(SalesTeamVersion).where(SalesTeamVersion.is_active.is_(True)))


# (version id, checksum) -> parsed team; a version row never changes once written.
_cache: dict[tuple[int, str], Team] = {}
_lock = threading.Lock()


def active_team(session: Session) -> Team | None:
    """The active sales team (parsed once per version and cached), or None."""
    found = session.execute(
        select(SalesTeamVersion.id, SalesTeamVersion.checksum).where(
            SalesTeamVersion.is_active.is_(True)
        )
    ).first()
    if found is None:
        return None
    key = (found.id, found.checksum)
    with _lock:
        team = _cache.get(key)
    if team is not None:
        return team
    row = session.get(SalesTeamVersion, found.id)
    assert row is not None
    team = parse_team_data(row.spec, row.source_path, checksum=row.checksum)
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = team
    return team


def sync_team_file(runtime: Runtime, *, now: datetime, path: Path | None = None) -> TeamSyncReport:
    """Load the configured team file into the database (one transaction)."""
    with transaction(runtime.sessions) as session:
        return sync_team(session, path or runtime.settings.sales_team_file, now=now)


class TeamWatcher:
    """Re-syncs the team file whenever it changes on disk (the worker and ``nurture tick``);
    a broken edit is reported and the previous version stays active."""

    def __init__(self, runtime: Runtime, on_report: Callable[[TeamSyncReport], None] | None = None):
        self.runtime = runtime
        self.on_report = on_report or _log_report
        self._snapshot: tuple[float, int] | None = None

    def sync_if_changed(self, now: datetime) -> bool:
        """Sync when the file changed since the last look; True when it synced."""
        try:
            stat = self.runtime.settings.sales_team_file.stat()
            current: tuple[float, int] | None = (stat.st_mtime, stat.st_size)
        except OSError:
            current = None
        if current is not None and current == self._snapshot:
            return False
        self.on_report(sync_team_file(self.runtime, now=now))
        self._snapshot = current
        return True


def _log_report(report: TeamSyncReport) -> None:
    if report.ok:
        if report.action != "unchanged":
            log.info("%s", report)
    else:
        log.warning("%s", report)

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.files.versions import (
    FileSyncReport,
    ParsedVersions,
    activate,
    active_row,
    kept_note,
)
from nurture.files.watch import FileWatcher
from nurture.handoff.team import Team
from nurture.handoff.team_parser import load_team_file, parse_team_data
from nurture.models import SalesRep, SalesTeamVersion
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamSyncReport(FileSyncReport):
    """What the sync did: ``action`` is created, activated, unchanged or failed."""

    LABEL = "sales team"


def sync_team(session: Session, path: Path | str, *, now: datetime) -> TeamSyncReport:
    """Make the team file at ``path`` the active version if it is valid and new, and mirror
    its reps. Runs in the caller's transaction."""
    resolved = str(Path(path).resolve())
    load = load_team_file(resolved)
    active = active_version(session)
    if not load.ok or load.team is None:
        note = kept_note(
            active, "no sales team is active yet: handoffs are created without an owner"
        )
        return TeamSyncReport("failed", resolved, None, tuple(load.problems), (note,))
    done = activate(
        session,
        SalesTeamVersion,
        load,
        name=load.team.name,
        source_path=resolved,
        now=now,
        active=active,
    )
    if done.action == "unchanged":
        return TeamSyncReport("unchanged", resolved, done.row.number)
    notes = done.notes
    notes.extend(mirror_reps(session, load.team, now=now))
    return TeamSyncReport(done.action, resolved, done.row.number, (), tuple(notes))


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
    return active_row(session, SalesTeamVersion)


_parsed: ParsedVersions[Team] = ParsedVersions()


def active_team(session: Session) -> Team | None:
    """The active sales team (parsed once per version and cached), or None."""
    found = session.execute(
        select(SalesTeamVersion.id, SalesTeamVersion.checksum).where(
            SalesTeamVersion.is_active.is_(True)
        )
    ).first()
    if found is None:
        return None

    def parse() -> Team:
        row = session.get(SalesTeamVersion, found.id)
        assert row is not None
        return parse_team_data(row.spec, row.source_path, checksum=row.checksum)

    return _parsed.get(found.id, found.checksum, parse)


def sync_team_file(runtime: Runtime, *, now: datetime, path: Path | None = None) -> TeamSyncReport:
    """Load the configured team file into the database (one transaction)."""
    with transaction(runtime.sessions) as session:
        return sync_team(session, path or runtime.settings.sales_team_file, now=now)


class TeamWatcher(FileWatcher[TeamSyncReport]):
    """Re-syncs the team file whenever it changes on disk (the worker and ``nurture tick``);
    a broken edit is reported and the previous version stays active."""

    def __init__(self, runtime: Runtime, on_report: Callable[[TeamSyncReport], None] | None = None):
        super().__init__(
            lambda: {"team": runtime.settings.sales_team_file},
            lambda _kind, _path, now: sync_team_file(runtime, now=now),
            on_report,
        )

"""The ICP and readiness files into the database: one immutable version per valid edit.

Exactly like the scoring file (``nurture.scoring.versions``): the file is the source of
truth, a valid new text becomes the next version and the active one, the text of an older
version re-activates it, and a broken file changes nothing (the report names each problem
with its line), so a typo never stops grading or handoffs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.files.problems import Problem
from nurture.files.versions import ParsedVersions, SyncReportText, activate, active_row, kept_note
from nurture.files.yaml_file import FileLoad
from nurture.models import Lead, QualificationVersion
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue
from nurture.qualification.icp import ICP
from nurture.qualification.icp_parser import load_icp_file, parse_icp_data
from nurture.qualification.readiness import Readiness
from nurture.qualification.readiness_parser import load_readiness_file, parse_readiness_data

KINDS = ("icp", "readiness")
_LOADERS: dict[str, Callable[[Path | str], FileLoad[Any]]] = {
    "icp": load_icp_file,
    "readiness": load_readiness_file,
}
_LABEL = {"icp": "icp", "readiness": "readiness"}


@dataclass(frozen=True)
class QualificationSyncReport(SyncReportText):
    """What a sync did: ``action`` is created, activated, unchanged or failed."""

    kind: str
    action: str
    path: str
    version: int | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """What the headline calls the file: its kind."""
        return _LABEL[self.kind]


def sync_file(
    session: Session,
    kind: str,
    path: Path | str,
    *,
    now: datetime,
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> QualificationSyncReport:
    """Make the ``kind`` file at ``path`` the active version if it is valid and new.

    Runs in the caller's transaction. A missing file is reported, not an error elsewhere:
    without an active ICP nobody is graded, without readiness nobody is handed off.
    """
    resolved = str(Path(path).resolve())
    load = (
        load_readiness_file(resolved, catalogue=catalogue)
        if kind == "readiness"
        else _LOADERS[kind](resolved)
    )
    active = _active_row(session, kind)
    if not load.ok or load.value is None:
        note = kept_note(
            active,
            "no ICP is active yet: leads are not graded"
            if kind == "icp"
            else "no readiness definition is active yet: nobody is handed to sales",
        )
        return QualificationSyncReport(
            kind, "failed", resolved, None, tuple(load.problems), (note,)
        )
    done = activate(
        session,
        QualificationVersion,
        load,
        name=load.value.name,
        source_path=resolved,
        now=now,
        active=active,
        kind=kind,
    )
    if done.action == "unchanged":
        return QualificationSyncReport(kind, "unchanged", resolved, done.row.number)
    notes = done.notes
    if kind == "icp":
        stale = session.scalar(
            select(func.count())
            .select_from(Lead)
            .where((Lead.fit_version_id.is_(None)) | (Lead.fit_version_id != done.row.id))
        )
        if stale:
            notes.append(
                f"{stale} lead(s) were graded with another version or never: "
                "run `nurture icp regrade`"
            )
    return QualificationSyncReport(kind, done.action, resolved, done.row.number, (), tuple(notes))


def _active_row(session: Session, kind: str) -> QualificationVersion | None:
    return active_row(session, QualificationVersion, kind=kind)


@dataclass(frozen=True)
class ActiveICP:
    """The active ICP and its version row."""

    version_id: int
    number: int
    icp: ICP


@dataclass(frozen=True)
class ActiveReadiness:
    """The active readiness definition and its version row."""

    version_id: int
    number: int
    readiness: Readiness


_parsed_versions: ParsedVersions[Any] = ParsedVersions()


def _parsed(session: Session, kind: str) -> tuple[int, int, Any] | None:
    found = session.execute(
        select(
            QualificationVersion.id, QualificationVersion.number, QualificationVersion.checksum
        ).where(QualificationVersion.kind == kind, QualificationVersion.is_active.is_(True))
    ).first()
    if found is None:
        return None

    def parse() -> Any:
        row = session.get(QualificationVersion, found.id)
        assert row is not None
        parse_data = parse_icp_data if kind == "icp" else parse_readiness_data
        return parse_data(row.spec, row.source_path, checksum=row.checksum)

    return found.id, found.number, _parsed_versions.get(found.id, found.checksum, parse)


def active_icp(session: Session) -> ActiveICP | None:
    """The active ICP (parsed once per version), or None before the first sync."""
    found = _parsed(session, "icp")
    return None if found is None else ActiveICP(*found)


def active_readiness(session: Session) -> ActiveReadiness | None:
    """The active readiness definition, or None before the first sync."""
    found = _parsed(session, "readiness")
    return None if found is None else ActiveReadiness(*found)

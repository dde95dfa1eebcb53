"""The scoring file into the database: one immutable version per valid edit, one active.

Like campaign files (``nurture.campaign_sync``): the file is the source of truth and the
rows are the record of what scored. A valid file whose text is new becomes the next
version and the active one; a file with the exact text of an older version makes that
version active again; a broken file changes nothing, so a typo never stops scoring, and
the report names every problem with its line. Leads keep the version their score was
computed with until they are rescored (``nurture scoring rescore``, or their next event).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.parser import Problem
from nurture.models import Lead, ScoringVersion
from nurture.scoring.model import ScoringModel
from nurture.scoring.parser import load_scoring_file, parse_scoring_data


@dataclass(frozen=True)
class ScoringSyncReport:
    """What the sync did: ``action`` is created, activated, unchanged or failed."""

    action: str
    path: str
    version: int | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when the file was valid."""
        return self.action != "failed"

    def lines(self) -> list[str]:
        """The report for people: a headline, then notes and problems indented."""
        headline = f"scoring {self.action}"
        if self.version is not None:
            headline += f" (version {self.version})"
        return [
            f"{headline}  {self.path}",
            *(f"    {note}" for note in self.notes),
            *(f"    {problem}" for problem in self.problems),
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def sync_scoring(session: Session, path: Path | str, *, now: datetime) -> ScoringSyncReport:
    """Make the scoring file at ``path`` the active version if it is valid and new.

    Runs in the caller's transaction and commits nothing itself.
    """
    resolved = str(Path(path).resolve())
    load = load_scoring_file(resolved)
    active = active_version(session)
    if not load.ok or load.model is None:
        note = (
            f"version {active.number} stays active"
            if active is not None
            else "no scoring model is active yet: leads are not scored"
        )
        return ScoringSyncReport("failed", resolved, None, tuple(load.problems), (note,))
    if active is not None and active.checksum == load.checksum:
        return ScoringSyncReport("unchanged", resolved, active.number)

    existing = session.scalar(
        select(ScoringVersion).where(ScoringVersion.checksum == load.checksum)
    )
    notes: list[str] = []
    if existing is not None:
        version, action = existing, "activated"
        notes.append(f"the file matches version {existing.number} again: restored it")
    else:
        last = session.scalar(select(func.max(ScoringVersion.number))) or 0
        version = ScoringVersion(
            number=last + 1,
            checksum=load.checksum,
            name=load.model.name,
            source_path=resolved,
            source=load.text,
            spec=load.data or {},
            created_at=now,
        )
        session.add(version)
        action = "created"
    session.execute(
        update(ScoringVersion).where(ScoringVersion.is_active.is_(True)).values(is_active=False)
    )
    version.is_active = True
    version.activated_at = now
    session.flush()
    stale = session.scalar(
        select(func.count())
        .select_from(Lead)
        .where(Lead.score_version_id.is_not(None), Lead.score_version_id != version.id)
    )
    if stale:
        notes.append(
            f"{stale} lead(s) were scored with another version: run `nurture scoring rescore`"
        )
    return ScoringSyncReport(action, resolved, version.number, (), tuple(notes))


def active_version(session: Session) -> ScoringVersion | None:
    """The active scoring version row, or None before the first sync."""
    return session.scalar(select(ScoringVersion).where(ScoringVersion.is_active.is_(True)))


# (version id, checksum) -> parsed model. A version row never changes once written; the
# checksum in the key keeps two databases used by one process (tests) from mixing.
_cache: dict[tuple[int, str], ScoringModel] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ActiveModel:
    """The active model and the id of the version row it came from."""

    version_id: int
    number: int
    model: ScoringModel


def active_model(session: Session) -> ActiveModel | None:
    """The active scoring model (parsed once per version and cached), or None."""
    found = session.execute(
        select(ScoringVersion.id, ScoringVersion.number, ScoringVersion.checksum).where(
            ScoringVersion.is_active.is_(True)
        )
    ).first()
    if found is None:
        return None
    model = model_for_version(session, found.id, found.checksum)
    return ActiveModel(found.id, found.number, model)


def model_for_version(session: Session, version_id: int, checksum: str) -> ScoringModel:
    """The parsed model of one stored version (cached)."""
    key = (version_id, checksum)
    with _lock:
        model = _cache.get(key)
    if model is not None:
        return model
    row = session.get(ScoringVersion, version_id)
    if row is None:
        raise LookupError(f"no scoring version {version_id}")
    model = parse_scoring_data(row.spec, row.source_path, checksum=row.checksum)
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = model
    return model

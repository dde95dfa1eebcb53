"""The scoring file into the database: one immutable version per valid edit, one active.

Like campaign files (``nurture.campaigns.sync``): the file is the source of truth and the
rows are the record of what scored. A valid file whose text is new becomes the next
version and the active one; a file with the exact text of an older version makes that
version active again; a broken file changes nothing, so a typo never stops scoring, and
the report names every problem with its line. Leads keep the version their score was
computed with until they are rescored (``nurture scoring rescore``, or their next event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.files.versions import FileSyncReport, ParsedVersions, activate, active_row, kept_note
from nurture.models import Lead, ScoringVersion
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue
from nurture.scoring.model import ScoringModel
from nurture.scoring.parser import load_scoring_file, parse_scoring_data


@dataclass(frozen=True)
class ScoringSyncReport(FileSyncReport):
    """What the sync did: ``action`` is created, activated, unchanged or failed."""

    LABEL = "scoring"


def sync_scoring(
    session: Session,
    path: Path | str,
    *,
    now: datetime,
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> ScoringSyncReport:
    """Make the scoring file at ``path`` the active version if it is valid and new.

    Runs in the caller's transaction and commits nothing itself.
    """
    resolved = str(Path(path).resolve())
    load = load_scoring_file(resolved, catalogue=catalogue)
    active = active_version(session)
    if not load.ok or load.model is None:
        note = kept_note(active, "no scoring model is active yet: leads are not scored")
        return ScoringSyncReport("failed", resolved, None, tuple(load.problems), (note,))
    done = activate(
        session,
        ScoringVersion,
        load,
        name=load.model.name,
        source_path=resolved,
        now=now,
        active=active,
    )
    if done.action == "unchanged":
        return ScoringSyncReport("unchanged", resolved, done.row.number)
    notes = done.notes
    stale = session.scalar(
        select(func.count())
        .select_from(Lead)
        .where(Lead.score_version_id.is_not(None), Lead.score_version_id != done.row.id)
    )
    if stale:
        notes.append(
            f"{stale} lead(s) were scored with another version: run `nurture scoring rescore`"
        )
    return ScoringSyncReport(done.action, resolved, done.row.number, (), tuple(notes))


def active_version(session: Session) -> ScoringVersion | None:
    """The active scoring version row, or None before the first sync."""
    return active_row(session, ScoringVersion)


_parsed: ParsedVersions[ScoringModel] = ParsedVersions()


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

    def parse() -> ScoringModel:
        row = session.get(ScoringVersion, version_id)
        if row is None:
            raise LookupError(f"no scoring version {version_id}")
        return parse_scoring_data(row.spec, row.source_path, checksum=row.checksum)

    return _parsed.get(version_id, checksum, parse)

"""Campaign files into the database: one immutable version per valid edit.

The files are the source of truth, the rows are the record of what ran. ``sync_campaigns``
compares each file with the campaign of the same id: a valid file whose text is new becomes
the next version and the active one; a broken file is recorded as the campaign's last error
and changes nothing else, so a typo never stops a live campaign; a campaign whose file has
gone from the folder is archived. Enrolments keep the version they started on until the
engine re-maps them by step id (``nurture.campaigns.editing``).

The engine asks for the active campaigns on every tick, so parsed specs are cached in
process, keyed by version: a version row never changes once written.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.campaigns.editing import version_changes
from nurture.campaigns.loader import parse_campaign_data
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.validator import (
    CheckedFile,
    TemplateExists,
    TemplateProblems,
    check_directory,
)
from nurture.files.problems import Problem
from nurture.models import Campaign as CampaignRow
from nurture.models import CampaignVersion, Enrollment
from nurture.platform.db import serialize
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue

ACTIONS = ("created", "updated", "unchanged", "failed", "archived")


@dataclass(frozen=True)
class SyncEntry:
    """What the sync did with one campaign (or one file that names no usable campaign)."""

    action: str  # one of ACTIONS
    key: str | None
    path: str | None
    version: int | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The entry for people: a headline, then notes and problems indented."""
        name = self.key or (Path(self.path).name if self.path else "?")
        headline = f"{self.action:<9} {name}"
        if self.version is not None:
            headline += f" (version {self.version})"
        if self.path:
            headline += f"  {self.path}"
        return [
            headline,
            *(f"    {note}" for note in self.notes),
            *(f"    {problem}" for problem in self.problems),
        ]


@dataclass
class SyncReport:
    """Every campaign the sync looked at, by what happened to it."""

    entries: list[SyncEntry] = field(default_factory=list)

    def of(self, action: str) -> list[SyncEntry]:
        """The entries with ``action`` (created, updated, unchanged, failed, archived)."""
        return [entry for entry in self.entries if entry.action == action]

    @property
    def created(self) -> list[SyncEntry]:
        return self.of("created")

    @property
    def updated(self) -> list[SyncEntry]:
        return self.of("updated")

    @property
    def unchanged(self) -> list[SyncEntry]:
        return self.of("unchanged")

    @property
    def failed(self) -> list[SyncEntry]:
        return self.of("failed")

    @property
    def archived(self) -> list[SyncEntry]:
        return self.of("archived")

    @property
    def ok(self) -> bool:
        """True when no file failed validation."""
        return not self.failed

    def lines(self) -> list[str]:
        """The whole report for people, one campaign after another, then the summary."""
        return [line for entry in self.entries for line in entry.lines()] + [str(self)]

    def __str__(self) -> str:
        return ", ".join(f"{len(self.of(action))} {action}" for action in ACTIONS)


# ---------------------------------------------------------------- sync


def sync_campaigns(
    session: Session,
    directory: Path | str,
    *,
    now: datetime,
    template_exists: TemplateExists,
    template_problems: TemplateProblems | None = None,
    known_templates: Iterable[str] = (),
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> SyncReport:
    """Bring the campaign rows in line with the files in ``directory`` (or one file).

    Runs inside the caller's transaction and commits nothing itself. A missing folder is an
    error rather than "no campaigns": a mistyped path must not archive every campaign.
    """
    root = Path(directory).resolve()
    if not root.exists():
        raise FileNotFoundError(f"no campaign folder or file at {root}")
    checked = check_directory(
        root,
        template_exists=template_exists,
        template_problems=template_problems,
        known_templates=known_templates,
        catalogue=catalogue,
    )
    # Two workers that see the same edit sync it one after the other (see ``serialize``).
    serialize(session, "campaign-sync")
    rows = {row.key: row for row in session.scalars(select(CampaignRow))}
    by_path = {row.source_path: row for row in rows.values() if row.source_path}
    claimed: set[int] = set()
    report = SyncReport()
    for item in checked:
        if item.ok:
            entry, row = _apply_valid(session, item, rows, now)
            rows[row.key] = row
        else:
            entry, claimed_rows = _record_failure(item, rows, by_path, now)
            claimed.update(row.id for row in claimed_rows)
            report.entries.append(entry)
            continue
        claimed.add(row.id)
        report.entries.append(entry)

    # Only a folder sync can tell that a file is gone; a one-file sync archives nothing.
    if root.is_dir():
        for row in rows.values():
            if row.id in claimed or row.status == "archived" or not row.source_path:
                continue
            if Path(row.source_path).parent != root:
                continue
            report.entries.append(_archive(session, row, now))
    return report


def _apply_valid(
    session: Session, item: CheckedFile, rows: dict[str, CampaignRow], now: datetime
) -> tuple[SyncEntry, CampaignRow]:
    campaign = item.load.campaign
    assert campaign is not None
    path = str(item.path.resolve())
    row = rows.get(campaign.id)
    if row is None:
        row = CampaignRow(
            key=campaign.id,
            name=campaign.name,
            source_path=path,
            status="active",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        version = _new_version(session, row, item, number=1, now=now)
        row.active_version_id = version.id
        return SyncEntry("created", row.key, path, version.number), row

    notes: list[str] = []
    if row.source_path != path:
        if row.source_path:
            notes.append(f"file moved from {row.source_path}")
        row.source_path = path
    if row.status == "archived":
        row.status = "active"
        notes.append("its file is back: active again")
    row.name = campaign.name
    row.last_error = None
    row.last_error_at = None

    existing = session.scalar(
        select(CampaignVersion).where(
            CampaignVersion.campaign_id == row.id,
            CampaignVersion.checksum == item.load.checksum,
        )
    )
    if existing is not None and existing.id == row.active_version_id:
        action = "updated" if notes else "unchanged"
        return SyncEntry(action, row.key, path, existing.number, notes=tuple(notes)), row

    previous_id = row.active_version_id
    if existing is not None:
        # The file is back to the exact text of an older version (an undone edit): make
        # that version active again rather than storing a copy of it.
        version = existing
        notes.append(f"the file matches version {existing.number} again: restored it")
    else:
        last = session.scalar(
            select(func.max(CampaignVersion.number)).where(CampaignVersion.campaign_id == row.id)
        )
        version = _new_version(session, row, item, number=(last or 0) + 1, now=now)
    if previous_id is not None:
        old = campaign_spec_for_version(session, previous_id)
        notes.extend(version_changes(old, campaign).describe())
    row.active_version_id = version.id
    row.updated_at = now
    return SyncEntry("updated", row.key, path, version.number, notes=tuple(notes)), row


def _new_version(
    session: Session, row: CampaignRow, item: CheckedFile, *, number: int, now: datetime
) -> CampaignVersion:
    version = CampaignVersion(
        campaign_id=row.id,
        number=number,
        checksum=item.load.checksum,
        source=item.load.text,
        spec=item.load.data or {},
        created_at=now,
    )
    session.add(version)
    session.flush()
    return version


def _record_failure(
    item: CheckedFile,
    rows: dict[str, CampaignRow],
    by_path: Mapping[str, CampaignRow],
    now: datetime,
) -> tuple[SyncEntry, list[CampaignRow]]:
    """Note a broken file on its campaign, changing nothing that runs.

    The campaign is found by the id written in the file, or, when the file is too broken to
    name one, by the file it was last loaded from. Both are kept from being archived: the
    file is still there, only unreadable for now.
    """
    path = str(item.path.resolve())
    key = item.load.key
    keyed = rows.get(key) if key else None
    located = by_path.get(path)
    row = keyed or located
    problems = tuple(item.problems)
    if row is None:
        note = "not created: fix the problems and sync again"
        return SyncEntry("failed", key, path, problems=problems, notes=(note,)), []
    row.last_error = "\n".join(str(problem) for problem in problems)
    row.last_error_at = now
    if row.status == "archived":
        note = "the campaign stays archived"
    elif row.active_version is not None:
        note = f"version {row.active_version.number} stays active"
    else:
        note = "it has no valid version yet and does not run"
    entry = SyncEntry("failed", row.key, path, problems=problems, notes=(note,))
    return entry, [found for found in (keyed, located) if found is not None]


def _archive(session: Session, row: CampaignRow, now: datetime) -> SyncEntry:
    row.status = "archived"
    row.updated_at = now
    active = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.campaign_id == row.id, Enrollment.status == "active")
    )
    note = "its file is gone from the folder: archived"
    if active:
        note += f"; its {active} active enrolment(s) are no longer processed"
    number = row.active_version.number if row.active_version is not None else None
    return SyncEntry("archived", row.key, row.source_path, number, notes=(note,))


# ---------------------------------------------------------------- reading specs


# (version id, checksum, source path) -> parsed spec. A version's text never changes, and
# the checksum in the key keeps two databases used by one process (tests) from mixing.
_SPEC_CACHE_SIZE = 512
_spec_cache: OrderedDict[tuple[int, str, str | None], CampaignSpec] = OrderedDict()
_spec_lock = threading.Lock()


def _cached_spec(
    session: Session, version_id: int, checksum: str, source_path: str | None
) -> CampaignSpec:
    key = (version_id, checksum, source_path)
    with _spec_lock:
        spec = _spec_cache.get(key)
        if spec is not None:
            _spec_cache.move_to_end(key)
            return spec
    data = session.scalar(select(CampaignVersion.spec).where(CampaignVersion.id == version_id))
    if data is None:
        raise LookupError(f"no campaign version {version_id}")
    spec = parse_campaign_data(data, source_path, checksum=checksum)
    with _spec_lock:
        _spec_cache[key] = spec
        while len(_spec_cache) > _SPEC_CACHE_SIZE:
            _spec_cache.popitem(last=False)
    return spec


def campaign_spec_for_version(session: Session, version_id: int) -> CampaignSpec:
    """The parsed campaign of one stored version (cached; raises LookupError if missing)."""
    found = session.execute(
        select(CampaignVersion.checksum, CampaignRow.source_path)
        .join(CampaignRow, CampaignRow.id == CampaignVersion.campaign_id)
        .where(CampaignVersion.id == version_id)
    ).first()
    if found is None:
        raise LookupError(f"no campaign version {version_id}")
    return _cached_spec(session, version_id, found.checksum, found.source_path)


def active_campaigns(session: Session) -> list[tuple[CampaignRow, CampaignSpec]]:
    """Every campaign that runs (status active, with a valid version) and its spec, by key."""
    found = session.execute(
        select(CampaignRow, CampaignVersion.id, CampaignVersion.checksum)
        .join(CampaignVersion, CampaignVersion.id == CampaignRow.active_version_id)
        .where(CampaignRow.status == "active")
        .order_by(CampaignRow.key)
    ).all()
    return [
        (row, _cached_spec(session, version_id, checksum, row.source_path))
        for row, version_id, checksum in found
    ]


def clear_spec_cache() -> None:
    """Forget every parsed spec (tests; a process never needs it)."""
    with _spec_lock:
        _spec_cache.clear()

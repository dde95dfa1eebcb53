"""The costs file into the database: one immutable version per valid edit, one active, and
its entries as the ``costs`` rows of origin ``file`` (docs/costs.md).

Like the sales team file (``nurture.handoff.team_sync``): a valid file whose text is new
becomes the next version; a broken file changes nothing and the report names every problem
with its line. A valid file replaces all the rows of the previous file. An entry the app
already holds for the same month, source and campaign is a problem at the file's line: the
two would count the same spend twice, and which one is right is the marketer's call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nurture.analytics.costs.entries import CostEntry
from nurture.analytics.costs.parser import CostsFile, load_costs_file
from nurture.files.problems import Problem
from nurture.files.versions import FileSyncReport, activate, active_row, kept_note
from nurture.files.watch import FileWatcher
from nurture.models import Campaign, Cost, CostFileVersion
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime

ORIGIN_FILE = "file"
ORIGIN_APP = "app"


@dataclass(frozen=True)
class CostsSyncReport(FileSyncReport):
    """What the sync did: ``action`` is created, activated, unchanged or failed."""

    LABEL = "costs"


def sync_costs(session: Session, path: Path | str, *, now: datetime) -> CostsSyncReport:
    """Make the costs file at ``path`` the active version if it is valid and new, and its
    entries the file's ``costs`` rows. Runs in the caller's transaction."""
    resolved = str(Path(path).resolve())
    load = load_costs_file(resolved)
    active = active_version(session)
    problems = list(load.problems)
    if load.ok and load.costs is not None:
        problems += _clashes_with_app(session, resolved, load.costs)
    if problems or load.costs is None:
        note = kept_note(active, "no costs file is active yet: only the app's entries count")
        return CostsSyncReport("failed", resolved, None, tuple(problems), (note,))
    done = activate(
        session,
        CostFileVersion,
        load,
        name=Path(resolved).name,
        source_path=resolved,
        now=now,
        active=active,
    )
    notes = [*done.notes, *_unknown_campaigns(session, resolved, load.costs)]
    if done.action == "unchanged" and _rows_match(session, load.costs):
        return CostsSyncReport("unchanged", resolved, done.row.number, (), tuple(notes))
    _replace_rows(session, load.costs, entered_by=resolved, now=now)
    notes.append(f"{len(load.costs.entries)} entries in {load.costs.currency}")
    return CostsSyncReport(done.action, resolved, done.row.number, (), tuple(notes))


def active_version(session: Session) -> CostFileVersion | None:
    """The active costs file version, or None before the first sync."""
    return active_row(session, CostFileVersion)


def reporting_currency(session: Session) -> str | None:
    """The currency costs are reported in: the active file's, else the app entries'
    (one currency for all), else None when there is no cost at all."""
    version = active_version(session)
    if version is not None and isinstance(version.spec.get("currency"), str):
        return str(version.spec["currency"]).upper()
    return session.scalar(select(Cost.currency).limit(1))


def sync_costs_file(
    runtime: Runtime, *, now: datetime, path: Path | None = None
) -> CostsSyncReport:
    """Load the configured costs file into the database (one transaction)."""
    with transaction(runtime.sessions) as session:
        return sync_costs(session, path or runtime.settings.costs_file, now=now)


class CostsWatcher(FileWatcher[CostsSyncReport]):
    """Re-syncs the costs file whenever it changes on disk (the worker and ``nurture
    tick``); a broken edit is reported and the previous version stays active."""

    def __init__(
        self, runtime: Runtime, on_report: Callable[[CostsSyncReport], None] | None = None
    ):
        super().__init__(
            lambda: {"costs": runtime.settings.costs_file},
            lambda _kind, _path, now: sync_costs_file(runtime, now=now),
            on_report,
        )


def _clashes_with_app(session: Session, path: str, costs: CostsFile) -> list[Problem]:
    app_rows = session.scalars(select(Cost).where(Cost.origin == ORIGIN_APP)).all()
    problems: list[Problem] = []
    other = sorted({row.currency for row in app_rows if row.currency != costs.currency})
    if other:
        problems.append(
            Problem(
                path,
                1,
                f"currency {costs.currency} differs from the app's entries in "
                f"{', '.join(other)}: costs are reported in one currency",
            )
        )
    entered = {(row.month, row.source, row.campaign): row for row in app_rows}
    for item in costs.entries:
        row = entered.get(item.entry.key)
        if row is not None:
            problems.append(
                Problem(
                    path,
                    item.line,
                    f"{item.entry.describe()} was entered in the app by {row.entered_by} "
                    f"on {row.entered_at:%Y-%m-%d}: delete that entry (web app or "
                    "DELETE /api/v1/costs/<id>) or remove this one, so it is not counted twice",
                )
            )
    return problems


def _unknown_campaigns(session: Session, path: str, costs: CostsFile) -> list[str]:
    # A warning, not an error: spend is often booked before the campaign file is synced.
    named = {item.entry.campaign for item in costs.entries if item.entry.campaign}
    if not named:
        return []
    known = set(session.scalars(select(Campaign.key).where(Campaign.key.in_(named))))
    return [
        f"warning: {path}:{item.line}: no campaign has the key {item.entry.campaign!r} "
        "(yet): the cost counts in the total but covers no lead until one does"
        for item in costs.entries
        if item.entry.campaign and item.entry.campaign not in known
    ]


def _rows_match(session: Session, costs: CostsFile) -> bool:
    count = len(session.scalars(select(Cost.id).where(Cost.origin == ORIGIN_FILE)).all())
    return count == len(costs.entries)


def _replace_rows(session: Session, costs: CostsFile, *, entered_by: str, now: datetime) -> None:
    session.execute(delete(Cost).where(Cost.origin == ORIGIN_FILE))
    session.flush()
    session.add_all(
        _row(item.entry, item.line, costs.currency, entered_by, now) for item in costs.entries
    )
    session.flush()


def _row(entry: CostEntry, line: int, currency: str, entered_by: str, now: datetime) -> Cost:
    return Cost(
        month=entry.month,
        source=entry.source,
        campaign=entry.campaign,
        amount=entry.amount,
        currency=currency,
        note=entry.note,
        origin=ORIGIN_FILE,
        file_line=line,
        entered_by=entered_by[-320:],
        entered_at=now,
        updated_at=now,
    )

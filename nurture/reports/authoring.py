"""The editor's figures: every editable file with its state on disk (valid, or how many
problems; last change) and its live version in the database (number, since when, the last
sync error), and the recent versions of one file.

The tables read here hold one row per file and one per saved version (a few hundred at
most), never per lead or event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.authoring.catalogue import (
    FileState,
    campaign_states,
    config_states,
    template_states,
)
from nurture.authoring.files import CAMPAIGN
from nurture.consent.brand import current_brand
from nurture.models import (
    Campaign,
    CampaignVersion,
    QualificationVersion,
    SalesTeamVersion,
    ScoringVersion,
)
from nurture.platform.config import Settings
from nurture.rendering.library import TemplateLibrary

# The version table of each single file, and the scope of its series.
_CONFIG_TABLES: dict[str, tuple[Any, dict[str, str]]] = {
    "scoring": (ScoringVersion, {}),
    "icp": (QualificationVersion, {"kind": "icp"}),
    "readiness": (QualificationVersion, {"kind": "readiness"}),
    "team": (SalesTeamVersion, {}),
}


@dataclass(frozen=True)
class LiveVersion:
    """What runs: the active version's number and since when; for a campaign also its
    status (active, archived) and the last sync's error, when its file is broken."""

    number: int | None
    since: datetime | None
    status: str | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class IndexRow:
    """One file of the editor's index."""

    file: FileState
    live: LiveVersion | None


@dataclass(frozen=True)
class AuthoringIndex:
    """The index page, by section."""

    campaigns: list[IndexRow]
    templates: list[IndexRow]
    configs: list[IndexRow]

    @property
    def problem_files(self) -> int:
        """How many files have problems (or are missing)."""
        rows = [*self.campaigns, *self.templates, *self.configs]
        return sum(1 for row in rows if not row.file.ok)


def authoring_index(
    session: Session, settings: Settings, library: TemplateLibrary
) -> AuthoringIndex:
    """Every editable file, checked on disk, with what runs of it."""
    campaigns = campaign_states(settings, library, current_brand(session, settings))
    live = campaign_live_versions(session, [c.key for c in campaigns if c.key])
    configs = [
        IndexRow(state, config_live_version(session, state.kind))
        for state in config_states(settings)
    ]
    return AuthoringIndex(
        campaigns=[IndexRow(state, live.get(state.key or "")) for state in campaigns],
        templates=[IndexRow(state, None) for state in template_states(library)],
        configs=configs,
    )


def campaign_live_versions(session: Session, keys: list[str]) -> dict[str, LiveVersion]:
    """The live version of each campaign in ``keys`` (absent: never synced)."""
    if not keys:
        return {}
    rows = session.execute(
        select(
            Campaign.key,
            Campaign.status,
            Campaign.last_error,
            CampaignVersion.number,
            CampaignVersion.created_at,
        )
        .outerjoin(CampaignVersion, CampaignVersion.id == Campaign.active_version_id)
        .where(Campaign.key.in_(keys))
    ).all()
    return {
        row.key: LiveVersion(row.number, row.created_at, row.status, row.last_error) for row in rows
    }


def config_live_version(session: Session, kind: str) -> LiveVersion | None:
    """The active version of the ``kind`` file (scoring, icp, readiness, team), or None."""
    table, scope = _CONFIG_TABLES[kind]
    row = session.execute(
        select(table.number, table.activated_at).where(
            table.is_active.is_(True), *(getattr(table, k) == v for k, v in scope.items())
        )
    ).first()
    return LiveVersion(row.number, row.activated_at) if row is not None else None


@dataclass(frozen=True)
class VersionEntry:
    """One stored version of a file."""

    number: int
    created_at: datetime
    active: bool


def version_history(session: Session, kind: str, name: str, limit: int = 10) -> list[VersionEntry]:
    """The last ``limit`` versions of a campaign (``name``: its key) or of the ``kind``
    file, newest first. Templates have no stored versions (their version is their text)."""
    if kind == CAMPAIGN:
        campaign = session.execute(
            select(Campaign.id, Campaign.active_version_id).where(Campaign.key == name)
        ).first()
        if campaign is None:
            return []
        rows = session.execute(
            select(CampaignVersion.id, CampaignVersion.number, CampaignVersion.created_at)
            .where(CampaignVersion.campaign_id == campaign.id)
            .order_by(CampaignVersion.number.desc())
            .limit(limit)
        ).all()
        return [
            VersionEntry(r.number, r.created_at, r.id == campaign.active_version_id) for r in rows
        ]
    if kind not in _CONFIG_TABLES:
        return []
    table, scope = _CONFIG_TABLES[kind]
    found = session.execute(
        select(table.number, table.created_at, table.is_active)
        .where(*(getattr(table, k) == v for k, v in scope.items()))
        .order_by(table.number.desc())
        .limit(limit)
    ).all()
    return [VersionEntry(r.number, r.created_at, bool(r.is_active)) for r in found]

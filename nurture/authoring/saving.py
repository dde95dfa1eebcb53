"""Saving an edited file: refused while it has problems or when the file changed on disk
since the editor opened it; otherwise written atomically and synced, so a new version is
recorded exactly as ``nurture campaigns sync`` (or the worker's watcher) would record it.

Files stay the source of truth: the database only records what ran, and a saved file is an
ordinary file change, reviewable in git. Saves are serialised by a lock file in the
instance folder, so two people saving the same file from two server processes cannot both
pass the change check and overwrite each other.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from nurture.authoring.checks import CheckResult, check_campaign, check_config, check_template
from nurture.authoring.files import (
    CAMPAIGN,
    TEMPLATE,
    config_path,
    fingerprint,
    normalise,
    part_files,
    read_template,
    read_text,
    write_atomically,
)
from nurture.campaigns.services import email_brand, template_checks
from nurture.campaigns.sync import sync_campaigns
from nurture.consent import audit
from nurture.files.event_catalogue import event_catalogue
from nurture.files.yaml_file import checksum
from nurture.handoff.team_sync import TeamSyncReport, sync_team
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.qualification.versions import QualificationSyncReport, sync_file
from nurture.rendering.library import render_limits, template_library
from nurture.scoring.versions import ScoringSyncReport, sync_scoring


class Refused(Exception):
    """The text has problems: nothing was written."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(f"{len(result.findings)} problem(s)")
        self.result = result


class Conflict(Exception):
    """The file changed on disk since the editor opened it: nothing was written.

    ``on_disk`` holds the current text of each file (None: it does not exist), and
    ``fingerprint`` what an editor showing that text would carry.
    """

    def __init__(self, on_disk: Mapping[str, str | None]) -> None:
        super().__init__("the file changed on disk")
        self.on_disk = dict(on_disk)
        self.fingerprint = fingerprint(on_disk)


@dataclass(frozen=True)
class Saved:
    """What a save did: the files written, and the sync's report lines."""

    kind: str
    name: str
    path: Path
    files: tuple[str, ...]
    version: int | None
    report: tuple[str, ...]
    fingerprint: str


def save_campaign(
    runtime: Runtime, path: Path, text: str, *, base: str, actor: str, now: datetime
) -> Saved:
    """Write the campaign file ``path`` and sync it (a new version when its text is new)."""
    library = template_library(runtime)
    with _save_lock(runtime):
        on_disk = read_text(path)
        _same_as_opened({path.name: on_disk}, base)
        text = normalise(text, on_disk=on_disk)
        brand = email_brand(runtime)
        catalogue = event_catalogue(runtime.settings)
        result = check_campaign(library, path, text, brand, catalogue=catalogue)
        if not result.ok:
            raise Refused(result)
        write_atomically(path, text)
        exists, problems = template_checks(library, brand)
        with transaction(runtime.sessions) as session:
            report = sync_campaigns(
                session,
                path,
                now=now,
                template_exists=exists,
                template_problems=problems,
                known_templates=library.names(),
                catalogue=catalogue,
            )
            entry = report.entries[0] if report.entries else None
            key = entry.key if entry and entry.key else path.stem
            version = entry.version if entry else None
            _audit(session, CAMPAIGN, key, path, text, version, actor=actor, now=now)
    return Saved(
        CAMPAIGN, key, path, (path.name,), version, tuple(report.lines()), _print({path.name: text})
    )


def save_config(
    runtime: Runtime, kind: str, text: str, *, base: str, actor: str, now: datetime
) -> Saved:
    """Write the ``kind`` file (scoring, icp, readiness, team) and sync it."""
    path = config_path(runtime.settings, kind)
    with _save_lock(runtime):
        on_disk = read_text(path)
        _same_as_opened({path.name: on_disk}, base)
        text = normalise(text, on_disk=on_disk)
        catalogue = event_catalogue(runtime.settings)
        result = check_config(kind, path, text, catalogue=catalogue)
        if not result.ok:
            raise Refused(result)
        write_atomically(path, text)
        with transaction(runtime.sessions) as session:
            report: ScoringSyncReport | TeamSyncReport | QualificationSyncReport
            if kind == "scoring":
                report = sync_scoring(session, path, now=now, catalogue=catalogue)
            elif kind == "team":
                report = sync_team(session, path, now=now)
            else:
                report = sync_file(session, kind, path, now=now, catalogue=catalogue)
            _audit(session, kind, kind, path, text, report.version, actor=actor, now=now)
    return Saved(
        kind, kind, path, (path.name,), report.version, tuple(report.lines()),
        _print({path.name: text}),
    )  # fmt: skip


def save_template(
    runtime: Runtime,
    name: str,
    folder: Path,
    parts: Mapping[str, str],
    *,
    base: str,
    actor: str,
    now: datetime,
    language: str | None = None,
) -> Saved:
    """Write the parts of template ``name`` (an empty optional part removes its file),
    then sync the campaign folder: campaigns waiting for this template can start, and the
    template library compiles the new version on its next use. With ``language``, the
    parts are that variant's files (``subject.pl.txt`` …), created when they are new."""
    root = runtime.settings.templates_path
    with _save_lock(runtime):
        on_disk = read_template(folder, language)
        _same_as_opened(on_disk, base)
        texts: dict[str, str | None] = {}
        for part in part_files(language):
            raw = parts.get(part, "")
            texts[part] = normalise(raw, on_disk=on_disk[part]) if raw.strip() else None
        result = check_template(
            root, name, texts, limits=render_limits(runtime.settings), language=language
        )
        if not result.ok:
            raise Refused(result)
        written = []
        for part, text in texts.items():
            target = folder / part
            if text is not None:
                if text != on_disk[part]:
                    write_atomically(target, text)
                    written.append(part)
            elif on_disk[part] is not None:
                target.unlink()
                written.append(part)
        detail = "".join(t or "" for t in texts.values())
        lines = _template_changed(runtime, name, folder, detail, language, actor=actor, now=now)
    return Saved(TEMPLATE, name, folder, tuple(written), None, tuple(lines), _print(texts))


def delete_variant(
    runtime: Runtime,
    name: str,
    folder: Path,
    language: str,
    *,
    base: str,
    actor: str,
    now: datetime,
) -> Saved:
    """Remove ``language``'s variant files of template ``name``: its readers get the
    default files from then on. Refused (Conflict) when the files changed on disk since
    the editor showed them."""
    with _save_lock(runtime):
        on_disk = read_template(folder, language)
        _same_as_opened(on_disk, base)
        removed = []
        for part, text in on_disk.items():
            if text is not None or (folder / part).is_file():
                (folder / part).unlink()
                removed.append(part)
        lines = _template_changed(
            runtime, name, folder, "", language, actor=actor, now=now, deleted=True
        )
    empty: dict[str, str | None] = {part: None for part in on_disk}
    return Saved(TEMPLATE, name, folder, tuple(removed), None, tuple(lines), _print(empty))


def _template_changed(
    runtime: Runtime,
    name: str,
    folder: Path,
    text: str,
    language: str | None,
    *,
    actor: str,
    now: datetime,
    deleted: bool = False,
) -> list[str]:
    """After a template's files changed: its new version, the campaigns synced (those
    waiting for it can start), and the audit row naming the files and their text."""
    library = template_library(runtime)
    library.invalidate(name)
    version = library.get(name, language).version
    lines: list[str] = [f"template {name}: version {version[:12]}"]
    exists, problems = template_checks(library, email_brand(runtime))
    with transaction(runtime.sessions) as session:
        campaigns = runtime.settings.campaigns_path
        if campaigns.is_dir():
            report = sync_campaigns(
                session,
                campaigns,
                now=now,
                template_exists=exists,
                template_problems=problems,
                known_templates=library.names(),
                catalogue=event_catalogue(runtime.settings),
            )
            lines += [line for entry in report.entries for line in entry.lines()]
        _audit(
            session, TEMPLATE, name, folder, text, None,
            actor=actor, now=now, template_version=version, language=language,
            action="authoring.deleted" if deleted else "authoring.saved",
        )  # fmt: skip
    return lines


def _print(texts: Mapping[str, str | None]) -> str:
    return fingerprint(texts)


def _same_as_opened(on_disk: Mapping[str, str | None], base: str) -> None:
    if fingerprint(on_disk) != base:
        raise Conflict(on_disk)


@contextmanager
def _save_lock(runtime: Runtime) -> Iterator[None]:
    folder = runtime.settings.instance_path
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".authoring.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _audit(
    session: Session,
    kind: str,
    name: str,
    path: Path,
    text: str,
    version: int | None,
    *,
    actor: str,
    now: datetime,
    template_version: str | None = None,
    language: str | None = None,
    action: str = "authoring.saved",
) -> None:
    # Which file and which text (its checksum): the page's own audit row says who and when.
    detail: dict[str, object] = {
        "kind": kind,
        "name": name,
        "file": str(path),
        "checksum": checksum(text),
    }
    if version is not None:
        detail["version"] = version
    if template_version is not None:
        detail["template_version"] = template_version
    if language is not None:
        detail["language"] = language
    audit.record(
        session,
        action=action,
        lead_id=None,
        email_hash=None,
        detail=detail,
        actor=actor,
        now=now,
    )

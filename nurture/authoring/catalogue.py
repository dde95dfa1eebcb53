"""Every file the editor can open, with its state on disk: valid or how many problems, and
when it last changed. The same checks as the ``validate`` commands (campaigns against the
templates, templates rendered for the sample leads); the template library's compile cache
makes a second look cheap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nurture.authoring.checks import CheckResult, check_config, template_finding
from nurture.authoring.files import CAMPAIGN, CONFIG_KINDS, TEMPLATE, config_path
from nurture.campaigns.services import template_checks
from nurture.campaigns.validator import check_directory
from nurture.consent.brand import Brand
from nurture.files.event_catalogue import event_catalogue
from nurture.platform.config import Settings
from nurture.rendering.library import TemplateLibrary


@dataclass(frozen=True)
class FileState:
    """One editable file (a template: its folder) and what is wrong with it."""

    kind: str  # campaign, template, or one of CONFIG_KINDS
    name: str  # what the editor's URL names it by: campaign key, template name, the kind
    path: Path
    exists: bool
    problems: int
    modified_at: datetime | None
    # The campaign's id as written in the file (None when unreadable).
    key: str | None = None
    # A template's language variants (``pl`` for ``body.pl.mjml``, and catalogue languages).
    languages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.exists and not self.problems


def _modified(path: Path) -> datetime | None:
    try:
        if path.is_dir():
            stamps = [child.stat().st_mtime for child in path.iterdir() if child.is_file()]
            stamp = max(stamps, default=path.stat().st_mtime)
        else:
            stamp = path.stat().st_mtime
    except OSError:
        return None
    return datetime.fromtimestamp(stamp, UTC)


def campaign_states(settings: Settings, library: TemplateLibrary, brand: Brand) -> list[FileState]:
    """Every campaign file of the folder, checked as ``nurture campaigns validate`` does
    (``brand``: the postal address campaign emails must show)."""
    root = settings.campaigns_path
    if not root.is_dir():
        return []
    exists, problems = template_checks(library, brand)
    checked = check_directory(
        root,
        template_exists=exists,
        template_problems=problems,
        known_templates=library.names(),
        catalogue=event_catalogue(settings),
    )
    return [
        FileState(
            CAMPAIGN,
            item.load.key or item.path.stem,
            item.path,
            True,
            len(item.problems),
            _modified(item.path),
            item.load.key,
        )
        for item in checked
    ]


def template_states(library: TemplateLibrary) -> list[FileState]:
    """Every template of the library, validated for the sample leads."""
    return [
        FileState(
            TEMPLATE,
            name,
            library.root / name,
            True,
            len(library.validate(name)),
            _modified(library.root / name),
            languages=library.languages(name),
        )
        for name in library.names()
    ]


def config_states(settings: Settings) -> list[FileState]:
    """The scoring, ICP, readiness and sales team files."""
    states = []
    for kind in CONFIG_KINDS:
        path = config_path(settings, kind)
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        catalogue = event_catalogue(settings)
        problems = (
            len(check_config(kind, path, text, catalogue=catalogue).findings)
            if text is not None
            else 1
        )
        states.append(FileState(kind, kind, path, text is not None, problems, _modified(path)))
    return states


def template_problems(library: TemplateLibrary, name: str) -> CheckResult:
    """The saved template's problems, placed for the editor."""
    root = library.root
    return CheckResult(tuple(template_finding(p, root, root, name) for p in library.validate(name)))

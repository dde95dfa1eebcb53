"""Checking an edited file as if it were saved: the same code, the same messages as the
``validate`` commands (``nurture campaigns validate``, ``scoring validate``, ``icp
validate``, ``readiness validate``, ``team validate``), and the template library's own
validation for templates, including the cross-file checks (a campaign sending a missing or
broken template; a template that does not render for the sample leads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nurture.authoring.files import required_files
from nurture.authoring.workspace import real_paths, template_workspace
from nurture.campaigns.loader import load_campaign_text
from nurture.campaigns.services import template_checks
from nurture.campaigns.spec import Campaign, SendStep
from nurture.campaigns.validator import check_edit
from nurture.consent.brand import Brand
from nurture.files.problems import Problem
from nurture.files.yaml_file import FileLoad
from nurture.handoff.team_parser import load_team_text
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.rendering.library import RenderLimits, TemplateLibrary, TemplateProblem
from nurture.rendering.sources import BODY_FILE, variant_file
from nurture.scoring.parser import load_scoring_text

CONFIG_LOADERS: dict[str, Callable[[str, str], FileLoad[Any]]] = {
    "scoring": load_scoring_text,
    "icp": load_icp_text,
    "readiness": load_readiness_text,
    "team": load_team_text,
}


@dataclass(frozen=True)
class Finding:
    """One problem, placed for the editor: which of the edited files, which line.

    ``text`` is the problem exactly as the CLI prints it (``path:line: message``).
    """

    file: str
    line: int
    message: str
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message, "text": self.text}


@dataclass(frozen=True)
class CheckResult:
    """Every problem found; none means the text may be saved and made live."""

    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines_of(self, file: str) -> frozenset[int]:
        """The lines of ``file`` that have a problem."""
        return frozenset(f.line for f in self.findings if f.file == file and f.line)


def _from_problem(problem: Problem, file: str) -> Finding:
    return Finding(file, problem.line, problem.message, str(problem))


def check_campaign(
    library: TemplateLibrary,
    path: Path,
    text: str,
    brand: Brand,
    *,
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> CheckResult:
    """``text`` checked as the campaign file ``path``: the file (its event types against
    ``catalogue``), its templates (rendered for the sample leads by ``library``, with the
    unsubscribe and preferences links and ``brand``'s postal address) and its id among the
    other files of the folder."""
    exists, problems = template_checks(library, brand)
    checked = check_edit(
        path,
        text,
        template_exists=exists,
        template_problems=problems,
        known_templates=library.names(),
        catalogue=catalogue,
    )
    return CheckResult(tuple(_from_problem(problem, path.name) for problem in checked.problems))


def check_config(
    kind: str, path: Path, text: str, *, catalogue: EventCatalogue = ANY_CUSTOM
) -> CheckResult:
    """``text`` checked as the ``kind`` file (scoring, icp, readiness, team) at ``path``;
    the scoring and readiness files' event types against ``catalogue``."""
    load = load_config(kind, str(path), text, catalogue=catalogue)
    return CheckResult(tuple(_from_problem(problem, path.name) for problem in load.problems))


def load_config(
    kind: str, name: str, text: str, *, catalogue: EventCatalogue = ANY_CUSTOM
) -> FileLoad[Any]:
    """``text`` loaded as the ``kind`` file (scoring, icp, readiness, team) named ``name``
    in its problems; the scoring and readiness files' event types checked against
    ``catalogue``."""
    if kind == "scoring":
        return load_scoring_text(text, name, catalogue=catalogue)
    if kind == "readiness":
        return load_readiness_text(text, name, catalogue=catalogue)
    return CONFIG_LOADERS[kind](text, name)


def check_template(
    root: Path,
    name: str,
    parts: Mapping[str, str | None],
    *,
    limits: RenderLimits | None = None,
    language: str | None = None,
) -> CheckResult:
    """The template ``name`` of the templates folder ``root`` with ``parts`` (file name →
    text, None or empty for an optional part left out) checked as the library checks it:
    syntax, layout, MJML, and rendering for the full and the sparse sample lead, each held
    to ``limits`` (the render budget; the defaults when None). ``parts`` are the files of
    ``language``'s variant when it is given (``body.pl.mjml`` …); every variant and the
    default files are checked either way, as ``validate`` checks them."""
    missing = [
        Finding(part, 0, "file is missing", f"{root / name / part}: file is missing")
        for part in sorted(required_files(language))
        if not (parts.get(part) or "").strip()
    ]
    if language is not None and not any((text or "").strip() for text in parts.values()):
        body = variant_file(BODY_FILE, language)
        message = "a variant needs its own subject or body (or delete it)"
        missing.append(Finding(body, 0, message, f"{root / name / body}: {message}"))
    if missing:
        return CheckResult(tuple(missing))
    with template_workspace(root, name, written_parts(parts)) as work:
        library = TemplateLibrary(work, check_interval=0, limits=limits)
        problems = library.validate(name)
        return CheckResult(tuple(template_finding(p, work, root, name) for p in problems))


def written_parts(parts: Mapping[str, str | None]) -> dict[str, str | None]:
    # An optional part left empty is no file at all (body.txt: the text part is derived).
    return {part: (text if (text or "").strip() else None) for part, text in parts.items()}


def template_finding(problem: TemplateProblem, work: Path, root: Path, name: str) -> Finding:
    folder = work / name
    path = problem.path
    if path.is_relative_to(folder):
        file = path.relative_to(folder).as_posix()
    elif path.is_relative_to(work):
        file = path.relative_to(work).as_posix()
    else:
        file = path.name
    return Finding(
        file,
        problem.line or 0,
        real_paths(problem.message, work, root),
        real_paths(str(problem), work, root),
    )


@dataclass(frozen=True)
class SendStepRef:
    """A step of a campaign that sends an email: what the editor offers to preview."""

    track: str
    step: str
    template: str
    line: int


def send_steps(text: str) -> tuple[Campaign | None, list[SendStepRef]]:
    """The campaign in ``text`` (None when it does not parse) and its send steps."""
    campaign = load_campaign_text(text).campaign
    if campaign is None:
        return None, []
    steps = [
        SendStepRef(track.id, step.id, step.template, step.line)
        for track in campaign.tracks
        for step in track.steps
        if isinstance(step, SendStep)
    ]
    return campaign, steps

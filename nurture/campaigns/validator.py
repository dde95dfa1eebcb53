"""Checks that need more than the campaign file itself: templates, and the other files in
the campaigns folder.

The loader already reports everything a file can get wrong on its own. Here a campaign is
checked against the template library (does every ``send:`` name a template, and does that
template render for a sample lead) and a folder of files against itself (one id, one file).
The template library is reached only through the callables passed in, so this module has no
idea how templates are stored or rendered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nurture.campaigns.loader import LoadResult, load_campaign_file, load_campaign_text
from nurture.campaigns.spec import Campaign, SendStep
from nurture.campaigns.vocabulary import SYNONYMS
from nurture.files.parser import suggest
from nurture.files.problems import Problem
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue

TemplateExists = Callable[[str], bool]
TemplateProblems = Callable[[str], Iterable[object]]

CAMPAIGN_SUFFIXES = (".yaml", ".yml")
DOES_NOT_RENDER = "does not render"


def validate_campaign(
    campaign: Campaign,
    *,
    template_exists: TemplateExists,
    template_problems: TemplateProblems | None = None,
    known_templates: Iterable[str] = (),
) -> list[Problem]:
    """Problems with the templates ``campaign`` sends, at the line of each send step.

    ``template_exists(name)`` says whether a template exists; ``template_problems(name)``
    (optional) returns what is wrong with sending it from a campaign (rendering it against
    a sample lead, the legal footer), as anything whose ``str()`` is a message and whose
    ``verdict`` attribute, when it has one, says what is wrong with the template (else it
    "does not render"). ``known_templates`` are the names offered as suggestions for an
    unknown one.
    """
    path = campaign.source_path or "<campaign>"
    known = sorted(set(known_templates))
    problems: list[Problem] = []
    exists: dict[str, bool] = {}
    checked: set[str] = set()
    # A problem that is the same whichever template it is found in (no postal address
    # configured) is one fix: it is reported once, at the first step that meets it.
    reported: set[str] = set()
    for track in campaign.tracks:
        for step in track.steps:
            if not isinstance(step, SendStep):
                continue
            name = step.template
            if name not in exists:
                exists[name] = bool(template_exists(name))
            if not exists[name]:
                guess = suggest(name, [option for option in known if option != name], SYNONYMS)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                problems.append(Problem(path, step.line, f"unknown template {name!r}{hint}"))
                continue
            # Each template is rendered once; its problems are reported at the first step
            # that sends it (the same template in three tracks is one fix, not three).
            if template_problems is None or name in checked:
                continue
            checked.add(name)
            for verdict, message in _template_problems(template_problems, name):
                if message in reported:
                    continue
                reported.add(message)
                problems.append(Problem(path, step.line, f"template {name!r} {verdict}: {message}"))
    return problems


def _template_problems(template_problems: TemplateProblems, name: str) -> list[tuple[str, str]]:
    """(verdict, message) of each problem ``template_problems(name)`` reports."""
    try:
        return [
            (str(getattr(problem, "verdict", DOES_NOT_RENDER)), str(problem))
            for problem in template_problems(name)
        ]
    except Exception as exc:  # the check must report a broken template library, not crash
        return [(DOES_NOT_RENDER, f"could not be checked ({type(exc).__name__}: {exc})")]


@dataclass(frozen=True)
class CheckedFile:
    """One campaign file after every check: what the loader gave and all problems."""

    path: Path
    load: LoadResult
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when the file is a campaign with no problems at all."""
        return self.load.campaign is not None and not self.problems

    @property
    def campaign(self) -> Campaign | None:
        """The campaign, only when the file is valid."""
        return self.load.campaign if self.ok else None


def campaign_files(path: Path) -> list[Path]:
    """The campaign files in folder ``path`` (``*.yaml``/``*.yml``, not hidden, sorted);
    a file path is returned as itself."""
    if path.is_file():
        return [path]
    return sorted(
        child
        for child in path.iterdir()
        if child.is_file()
        and child.suffix.lower() in CAMPAIGN_SUFFIXES
        and not child.name.startswith(".")
    )


def check_file(
    path: Path,
    *,
    template_exists: TemplateExists,
    template_problems: TemplateProblems | None = None,
    known_templates: Iterable[str] = (),
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> CheckedFile:
    """Load one file and check its templates (and its event types against ``catalogue``)."""
    load = load_campaign_file(path, catalogue=catalogue)
    problems = list(load.problems)
    if load.campaign is not None:
        problems += validate_campaign(
            load.campaign,
            template_exists=template_exists,
            template_problems=template_problems,
            known_templates=known_templates,
        )
    return CheckedFile(Path(path), load, sorted(problems, key=lambda problem: problem.line))


def check_directory(
    path: Path,
    *,
    template_exists: TemplateExists,
    template_problems: TemplateProblems | None = None,
    known_templates: Iterable[str] = (),
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> list[CheckedFile]:
    """Check every campaign file in a folder (or the one file ``path`` names).

    Two files with the same campaign id are both reported: neither can safely be taken as
    the campaign, and picking one by file name would silently change a live campaign.
    """
    known = list(known_templates)
    checked = [
        check_file(
            file,
            template_exists=template_exists,
            template_problems=template_problems,
            known_templates=known,
            catalogue=catalogue,
        )
        for file in campaign_files(Path(path))
    ]
    by_key: dict[str, list[CheckedFile]] = defaultdict(list)
    for item in checked:
        if item.load.key is not None:
            by_key[item.load.key].append(item)
    result: list[CheckedFile] = []
    for item in checked:
        others = [other for other in by_key.get(item.load.key or "", []) if other is not item]
        result.append(_with_duplicates(item, [other.path for other in others]))
    return result


def _with_duplicates(item: CheckedFile, others: list[Path]) -> CheckedFile:
    """``item``, with a problem at its ``id:`` line when ``others`` use the same id."""
    if not others:
        return item
    names = ", ".join(other.name for other in others)
    duplicate = Problem(
        str(item.path),
        item.load.id_line,
        f"campaign id {item.load.key!r} is also used by {names}: each campaign needs its own id",
    )
    problems = sorted([*item.problems, duplicate], key=lambda problem: problem.line)
    return CheckedFile(item.path, item.load, problems)


def check_edit(
    path: Path,
    text: str,
    *,
    template_exists: TemplateExists,
    template_problems: TemplateProblems | None = None,
    known_templates: Iterable[str] = (),
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> CheckedFile:
    """Check ``text`` as if it were saved as the campaign file ``path``, without writing it.

    Exactly what :func:`check_directory` would report for that file once saved: its own
    problems, its templates, and an id already used by another file of its folder (those
    are only read for their ids; their own problems are theirs).
    """
    path = Path(path)
    load = load_campaign_text(text, path, catalogue=catalogue)
    problems = list(load.problems)
    if load.campaign is not None:
        problems += validate_campaign(
            load.campaign,
            template_exists=template_exists,
            template_problems=template_problems,
            known_templates=known_templates,
        )
    item = CheckedFile(path, load, sorted(problems, key=lambda problem: problem.line))
    if load.key is None or not path.parent.is_dir():
        return item
    others = [
        other
        for other in campaign_files(path.parent)
        # Read for their ids only: the id does not depend on the event types.
        if other.name != path.name and load_campaign_file(other).key == load.key
    ]
    return _with_duplicates(item, others)


def validate_directory(
    path: Path,
    *,
    template_exists: TemplateExists,
    template_problems: TemplateProblems | None = None,
    known_templates: Iterable[str] = (),
    catalogue: EventCatalogue = ANY_CUSTOM,
) -> dict[Path, list[Problem]]:
    """Every campaign file in ``path`` with its problems (an empty list when it is valid)."""
    return {
        item.path: item.problems
        for item in check_directory(
            path,
            template_exists=template_exists,
            template_problems=template_problems,
            known_templates=known_templates,
            catalogue=catalogue,
        )
    }

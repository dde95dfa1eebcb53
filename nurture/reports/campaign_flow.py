"""A campaign as the page draws it: its tracks and steps (from the active version) with the
figures of each step, the file's problems, and its versions with what changed between two.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.campaigns.describe import describe
from nurture.campaigns.editing import VersionChanges, version_changes
from nurture.campaigns.spec import BranchStep, ExitStep, SendStep, Step, WaitStep, step_key
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.sync import campaign_spec_for_version
from nurture.models import Campaign, CampaignVersion
from nurture.reports.campaigns import StepFigures, live_by_version

_PROBLEM = re.compile(r"^(?P<path>.*?):(?P<line>\d+): (?P<message>.*)$")


@dataclass(frozen=True)
class FlowStep:
    """One box of the flow: what the step does, where it leads, and its figures."""

    id: str
    kind: str  # send | wait | branch | exit
    line: int
    figures: StepFigures
    template: str | None = None  # send
    duration: timedelta | None = None  # wait
    weekday: int | None = None  # wait (0 = Monday)
    at: time | None = None  # wait
    condition: str | None = None  # branch, in the file's own words
    then: str | None = None  # branch target (None: the next step)
    otherwise: str | None = None
    reason: str | None = None  # exit
    goal: bool = False  # exit
    next_id: str | None = None  # the step that follows in file order


@dataclass(frozen=True)
class FlowTrack:
    """One track: which leads it is for, and its steps in order."""

    id: str
    stages: tuple[str, ...] | None
    temperatures: tuple[str, ...] | None
    steps: tuple[FlowStep, ...]


@dataclass(frozen=True)
class FileProblem:
    """One problem of the campaign's file, as ``nurture campaigns validate`` prints it."""

    path: str
    line: int
    message: str


@dataclass(frozen=True)
class Flow:
    """The active version's tracks, plus figures at positions no longer in it."""

    tracks: tuple[FlowTrack, ...]
    # Step keys with figures that are not a step of the active version (removed steps,
    # exits before the first step), with their figures.
    elsewhere: tuple[tuple[str, StepFigures], ...] = ()


def flow(spec: CampaignSpec, figures: dict[str, StepFigures]) -> Flow:
    """The flow of ``spec`` with each step's ``figures`` (from ``step_figures``)."""
    used: set[str] = set()
    tracks = []
    for track in spec.tracks:
        steps = []
        for index, step in enumerate(track.steps):
            key = step_key(track.id, step.id)
            used.add(key)
            following = track.steps[index + 1].id if index + 1 < len(track.steps) else None
            steps.append(_box(step, figures.get(key, StepFigures()), following))
        tracks.append(
            FlowTrack(
                id=track.id,
                stages=tuple(sorted(track.stages)) if track.stages is not None else None,
                temperatures=tuple(sorted(track.temperatures))
                if track.temperatures is not None
                else None,
                steps=tuple(steps),
            )
        )
    elsewhere = tuple(sorted((key, value) for key, value in figures.items() if key not in used))
    return Flow(tuple(tracks), elsewhere)


def _box(step: Step, figures: StepFigures, following: str | None) -> FlowStep:
    box = FlowStep(id=step.id, kind="", line=step.line, figures=figures, next_id=following)
    match step:
        case SendStep(template=template):
            return replace(box, kind="send", template=template)
        case WaitStep(duration=duration, weekday=weekday, at=at):
            return replace(box, kind="wait", duration=duration, weekday=weekday, at=at)
        case BranchStep(condition=condition, then=then, otherwise=otherwise):
            return replace(
                box, kind="branch", condition=describe(condition), then=then, otherwise=otherwise
            )
        case ExitStep(reason=reason, goal=goal):
            return replace(box, kind="exit", reason=reason, goal=goal)
    raise TypeError(f"unknown step {step!r}")


def file_problems(campaign: Campaign) -> list[FileProblem]:
    """The problems of the last failed load of the campaign's file (empty when it loaded)."""
    problems = []
    for text in (campaign.last_error or "").splitlines():
        match = _PROBLEM.match(text)
        if match:
            problems.append(FileProblem(match["path"], int(match["line"]), match["message"]))
        elif text.strip():
            problems.append(FileProblem(campaign.source_path or "", 0, text))
    return problems


# ---------------------------------------------------------------- versions


@dataclass(frozen=True)
class VersionRow:
    """One stored version of the campaign."""

    id: int
    number: int
    created_at: datetime
    checksum: str
    active: bool
    live_enrolments: int  # live enrolments still on this version


def versions(session: Session, campaign: Campaign) -> list[VersionRow]:
    """The campaign's versions, newest first."""
    live = live_by_version(session, campaign.id)
    return [
        VersionRow(
            id=version.id,
            number=version.number,
            created_at=version.created_at,
            checksum=version.checksum,
            active=version.id == campaign.active_version_id,
            live_enrolments=live.get(version.id, 0),
        )
        for version in session.scalars(
            select(CampaignVersion)
            .where(CampaignVersion.campaign_id == campaign.id)
            .order_by(CampaignVersion.number.desc())
        )
    ]


@dataclass(frozen=True)
class DiffLine:
    """One line of a side-by-side-able diff: ``kind`` is same, added, removed or gap."""

    kind: str
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class StepChange:
    """A step present in both versions whose content changed."""

    track: str
    step: str


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version ``old`` to version ``new``."""

    old: int
    new: int
    removed: VersionChanges  # removed tracks and steps, and where enrolments there go
    added_tracks: tuple[str, ...]
    added_steps: tuple[tuple[str, str], ...]
    changed_steps: tuple[StepChange, ...]
    lines: tuple[DiffLine, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return not any(line.kind in ("added", "removed") for line in self.lines)


def version_diff(
    session: Session, campaign: Campaign, old_number: int, new_number: int, *, context: int = 3
) -> VersionDiff | None:
    """The difference between two versions of ``campaign`` (None if either is missing)."""
    found = {
        version.number: version
        for version in session.scalars(
            select(CampaignVersion).where(
                CampaignVersion.campaign_id == campaign.id,
                CampaignVersion.number.in_((old_number, new_number)),
            )
        )
    }
    if old_number not in found or new_number not in found:
        return None
    old_version, new_version = found[old_number], found[new_number]
    old = campaign_spec_for_version(session, old_version.id)
    new = campaign_spec_for_version(session, new_version.id)
    added_tracks, added_steps, changed = _additions(old, new)
    return VersionDiff(
        old=old_number,
        new=new_number,
        removed=version_changes(old, new),
        added_tracks=added_tracks,
        added_steps=added_steps,
        changed_steps=changed,
        lines=tuple(line_diff(old_version.source, new_version.source, context=context)),
    )


def _additions(
    old: CampaignSpec, new: CampaignSpec
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[StepChange, ...]]:
    added_tracks: list[str] = []
    added_steps: list[tuple[str, str]] = []
    changed: list[StepChange] = []
    for track in new.tracks:
        before = old.track(track.id)
        if before is None:
            added_tracks.append(track.id)
            continue
        previous = {step.id: step for step in before.steps}
        for step in track.steps:
            was = previous.get(step.id)
            if was is None:
                added_steps.append((track.id, step.id))
            elif _without_line(was) != _without_line(step):
                changed.append(StepChange(track.id, step.id))
    return tuple(added_tracks), tuple(added_steps), tuple(changed)


def _without_line(step: Step) -> Step:
    # The same step moved down the file is not a change.
    return replace(step, line=0)


def line_diff(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """A line diff of two texts with ``context`` unchanged lines around each change."""
    a, b = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine("same", i + 1, j + 1, a[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            lines.extend(DiffLine("removed", i + 1, None, a[i]) for i in range(i1, i2))
            lines.extend(DiffLine("added", None, j + 1, b[j]) for j in range(j1, j2))
    return lines

"""The track grammar of a campaign file: tracks, their steps, and the checks that need them all.

Each track is read on its own (its ``when``, then its steps); what needs every track is
checked once all are read: branch targets, steps no path reaches, loops without a wait,
``opened``/``clicked`` mentions of steps that send no email, and tracks hidden behind an
earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nurture.campaigns.conditions import ConditionParser
from nurture.campaigns.spec import (
    TEMPERATURES,
    BranchStep,
    ExitStep,
    SendStep,
    Step,
    Track,
    WaitStep,
)
from nurture.campaigns.vocabulary import (
    ALL_STEP_FIELDS,
    EXIT_STEP_FIELDS,
    MAX_REASON,
    STEP_FIELDS,
    STEP_ID_RE,
    STEP_ID_RULE,
    STEP_KINDS,
    TEMPLATE_RE,
    TRACK_FIELDS,
    WAIT_FIELDS,
    WHEN_FIELDS,
)
from nurture.files.parser import MAX_KEY, WEEKDAY_NAMES, human_list, weekday_token
from nurture.files.problems import kind_name
from nurture.files.yaml_lines import line_of, own_line
from nurture.leads.stages import LIFECYCLE_STAGES


@dataclass
class TrackParser(ConditionParser):
    """Reads a campaign's tracks and steps, and checks them once all are read."""

    # Lines of `then:` / `else:` in the track being read, keyed by (step id, key).
    target_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    # Step ids as written in any track: sends, and every other step.
    raw_send_ids: set[str] = field(default_factory=set)
    raw_other_ids: set[str] = field(default_factory=set)
    # Tracks whose `when` parsed, for the check that no track hides a later one.
    matchable_tracks: list[Track] = field(default_factory=list)
    # Per track, what the checks after reading all tracks need: (name as written, parsed
    # steps, ids as written, `then`/`else` lines, the track if built, no problems so far).
    pending_tracks: list[
        tuple[Any, list[Step], list[str], dict[tuple[str, str], int], Track | None, bool]
    ] = field(default_factory=list)

    # -------------------------------------------------------- tracks and steps

    def tracks(self, value: Any, line: int) -> tuple[Track, ...]:
        """``tracks``: a mapping from track name to track."""
        if isinstance(value, list):
            self.error(
                own_line(value, line),
                "tracks must be a mapping from track name to track, e.g. `cold: {steps: […]}`",
            )
            return ()
        spec = self.mapping(value, line, "tracks")
        if spec is None:
            return ()
        if not spec:
            self.error(line, "a campaign needs at least one track")
            return ()
        tracks: list[Track] = []
        for track_id, track_spec in spec.items():
            track = self.track(track_id, track_spec, line_of(spec, track_id, line))
            if track is not None:
                tracks.append(track)
        return tuple(tracks)

    def track(self, raw_id: Any, value: Any, line: int) -> Track | None:
        """One track: its ``when`` and its steps; the checks that need every track are queued."""
        track_id = self.identifier(raw_id, line, "track name", STEP_ID_RE, STEP_ID_RULE)
        spec = self.mapping(value, line, f"track {raw_id!r}")
        if spec is None:
            return None
        self.fields(spec, TRACK_FIELDS, line)
        problems_at_start = len(self.problems)
        stages = temperatures = None
        if "when" in spec:
            when_line = line_of(spec, "when", line)
            when = self.mapping(spec["when"], when_line, "when")
            if when is not None:
                self.fields(when, WHEN_FIELDS, when_line)
                if not when:
                    self.error(
                        when_line,
                        "when needs stage and/or temperature; leave `when` out for a track "
                        "that takes every lead",
                    )
                if "stage" in when:
                    stages = self.names(
                        when["stage"],
                        line_of(when, "stage", when_line),
                        "stage",
                        LIFECYCLE_STAGES,
                        "stage",
                    )
                if "temperature" in when:
                    temperatures = self.names(
                        when["temperature"],
                        line_of(when, "temperature", when_line),
                        "temperature",
                        TEMPERATURES,
                        "temperature",
                    )
        when_broken = len(self.problems) > problems_at_start
        raw_steps = spec.get("steps")
        if raw_steps is None or raw_steps == []:
            self.error(line_of(spec, "steps", line), f"track {raw_id!r} has no steps")
            return None
        if not isinstance(raw_steps, list):
            self.error(
                line_of(spec, "steps", line), f"steps must be a list, not {kind_name(raw_steps)}"
            )
            return None
        steps_line = line_of(spec, "steps", line)
        self.target_lines = {}
        # Ids as written, even on steps that fail to parse, so one broken step does not
        # also turn every branch or `opened:` that names it into a second problem.
        raw_ids = self.note_raw_steps(raw_steps)
        problems_before = len(self.problems)
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_steps):
            step_line = line_of(raw_steps, index, steps_line)
            step = self.step(raw, step_line)
            if step is None:
                continue
            if step.id in seen:
                self.error(
                    step_line,
                    f"duplicate step id {step.id!r} in track {raw_id!r} "
                    f"(first used on line {seen[step.id]})",
                )
                continue
            seen[step.id] = step_line
            steps.append(step)
        clean = len(self.problems) == problems_before
        track = None
        if track_id is not None:
            track = Track(track_id, tuple(steps), stages, temperatures, line=line)
            if not when_broken:
                self.matchable_tracks.append(track)
        # Branch targets are checked once every track is read (a target in another track
        # gets its own hint); the flow checks need every step and target intact.
        self.pending_tracks.append((raw_id, steps, raw_ids, dict(self.target_lines), track, clean))
        return track

    def note_raw_steps(self, raw_steps: Sequence[Any]) -> list[str]:
        """Record the step ids (and which send email) as written in one track."""
        ids: list[str] = []
        for raw in raw_steps:
            if isinstance(raw, Mapping) and isinstance(raw.get("id"), str | int):
                step_id = str(raw["id"])
                ids.append(step_id)
                (self.raw_send_ids if "send" in raw else self.raw_other_ids).add(step_id)
        return ids

    def step(self, value: Any, line: int) -> Step | None:
        """One step, which does exactly one of send, wait, if or exit."""
        spec = self.mapping(value, line, "a step")
        if spec is None:
            return None
        line = own_line(spec, line)
        kinds = [kind for kind in STEP_KINDS if kind in spec]
        if len(kinds) > 1:
            self.error(
                line,
                f"a step does one thing: found {human_list(kinds).replace(' or ', ' and ')}; "
                "split it into separate steps",
            )
            return None
        if not kinds:
            self.fields(spec, ALL_STEP_FIELDS, line)
            if all(key in ALL_STEP_FIELDS for key in spec):
                self.error(line, f"a step needs one of {human_list(STEP_KINDS)}")
            return None
        kind = kinds[0]
        self.fields(spec, STEP_FIELDS[kind], line)
        step = self.step_body(kind, spec, line)
        # A step with a stray field is reported, yet the rest of it is still checked.
        return None if any(key not in STEP_FIELDS[kind] for key in spec) else step

    def step_body(self, kind: str, spec: Mapping[Any, Any], line: int) -> Step | None:
        """The step of ``kind`` once its fields are known to fit that kind."""
        step_id = None
        if "id" not in spec or spec["id"] is None:
            self.error(
                line,
                "a step needs an id (ids keep enrolments in place when the file is edited)",
            )
        else:
            step_id = self.identifier(
                spec["id"],
                line_of(spec, "id", line),
                "step id",
                STEP_ID_RE,
                STEP_ID_RULE,
            )
        kind_line = line_of(spec, kind, line)
        argument = spec[kind]
        if kind == "send":
            template = self.text(argument, kind_line, "send (a template name)", max_length=MAX_KEY)
            if template is not None and not TEMPLATE_RE.match(template):
                self.error(
                    kind_line,
                    f"template name {template!r}: use the template's folder name under "
                    "templates/ (letters, digits, '-', '_' and '.')",
                )
                return None
            if template is None or step_id is None:
                return None
            return SendStep(step_id, template, line=line)
        if kind == "wait":
            return self.wait(step_id, argument, kind_line, line)
        if kind == "if":
            condition = self.condition(argument, kind_line, "if")
            targets: dict[str, str | None] = {}
            for key in ("then", "else"):
                if spec.get(key) is None:
                    targets[key] = None
                    continue
                targets[key] = self.identifier(
                    spec[key], line_of(spec, key, line), f"{key} target", STEP_ID_RE, STEP_ID_RULE
                )
                if targets[key] is None:
                    return None
                if step_id is not None:
                    self.target_lines[(step_id, key)] = line_of(spec, key, line)
            if condition is None or step_id is None:
                return None
            return BranchStep(step_id, condition, targets["then"], targets["else"], line=line)
        return self.exit_step(step_id, argument, kind_line, line)

    def wait(
        self, step_id: str | None, argument: Any, line: int, step_line: int
    ) -> WaitStep | None:
        """``wait: DURATION`` or ``wait: {duration, until, at}``."""
        if not isinstance(argument, Mapping):
            duration = self.duration(argument, line, "wait")
            if duration is None or step_id is None:
                return None
            return WaitStep(step_id, duration=duration, line=step_line)
        self.fields(argument, WAIT_FIELDS, line)
        if not any(argument.get(key) is not None for key in WAIT_FIELDS):
            self.error(
                line,
                'wait needs a duration (3d), until (a weekday) and/or at (a time, "09:30")',
            )
            return None
        duration = weekday = at = None
        ok = all(key in WAIT_FIELDS for key in argument)
        if argument.get("duration") is not None:
            duration = self.duration(
                argument["duration"], line_of(argument, "duration", line), "duration"
            )
            ok = ok and duration is not None
        if argument.get("until") is not None:
            until_line = line_of(argument, "until", line)
            raw = argument["until"]
            token = weekday_token(raw) if isinstance(raw, str) else None
            if token in WEEKDAY_NAMES:
                weekday = WEEKDAY_NAMES.index(token)
            else:
                self.error(
                    until_line,
                    f"unknown weekday {raw!r}{self.did_you_mean(raw, WEEKDAY_NAMES)}: until takes "
                    f"one day: {human_list(WEEKDAY_NAMES)}",
                )
                ok = False
        if argument.get("at") is not None:
            at = self.clock(argument["at"], line_of(argument, "at", line), "at")
            ok = ok and at is not None
        if not ok or step_id is None:
            return None
        return WaitStep(step_id, duration=duration, weekday=weekday, at=at, line=step_line)

    def exit_step(
        self, step_id: str | None, argument: Any, line: int, step_line: int
    ) -> ExitStep | None:
        """``exit: REASON``, ``exit: true`` or ``exit: {reason, goal}``."""
        reason: str | None = "completed"
        goal: bool | None = False
        if isinstance(argument, Mapping):
            self.fields(argument, EXIT_STEP_FIELDS, line)
            if argument.get("reason") is not None:
                reason = self.text(
                    argument["reason"],
                    line_of(argument, "reason", line),
                    "reason",
                    max_length=MAX_REASON,
                )
            if "goal" in argument:
                goal = self.boolean(argument["goal"], line_of(argument, "goal", line), "goal")
            if any(key not in EXIT_STEP_FIELDS for key in argument):
                return None
        elif argument is not True:
            reason = self.text(argument, line, "exit (a reason)", max_length=MAX_REASON)
        if reason is None or goal is None or step_id is None:
            return None
        return ExitStep(step_id, reason, goal, line=step_line)

    # -------------------------------------------------------- whole-campaign checks

    def check_targets(
        self,
        track_name: Any,
        steps: Sequence[Step],
        raw_ids: list[str],
        target_lines: Mapping[tuple[str, str], int],
    ) -> None:
        """Report ``then``/``else`` targets that are not steps of the branch's own track."""
        for step in steps:
            if not isinstance(step, BranchStep):
                continue
            for key, target in (("then", step.then), ("else", step.otherwise)):
                if target is not None and target not in raw_ids:
                    elsewhere = target in self.raw_send_ids | self.raw_other_ids
                    hint = (
                        " (a branch can only go to a step of its own track)"
                        if elsewhere
                        else self.did_you_mean(target, raw_ids)
                    )
                    self.error(
                        target_lines.get((step.id, key), step.line),
                        f"{key}: no step {target!r} in track {track_name!r}{hint}",
                    )

    def check_flow(self, track: Track) -> None:
        """Report steps no path reaches, and loops that would run without ever waiting."""
        successors = flow_successors(track)
        reachable: set[str] = set()
        queue = [track.steps[0].id]
        while queue:
            current = queue.pop()
            if current in reachable:
                continue
            reachable.add(current)
            queue.extend(successors[current])
        previous: Step | None = None
        for step in track.steps:
            if step.id not in reachable:
                if isinstance(previous, ExitStep):
                    why = f"it follows exit step {previous.id!r} and no branch goes to it"
                else:
                    why = "no path from the track's first step leads to it"
                self.error(step.line, f"step {step.id!r} is unreachable: {why}")
            previous = step

        # A loop that never waits would run MAX_STEPS_PER_PASS steps and park the enrolment;
        # emails in it go out once (already-received templates are skipped), so it is always
        # a mistake. Edges out of wait steps are dropped: a loop through a wait is fine.
        by_id = {step.id: step for step in track.steps}
        colour: dict[str, int] = {}
        reported: set[tuple[str, str]] = set()

        def visit(node: str) -> None:
            colour[node] = 1
            if not isinstance(by_id[node], WaitStep):
                for target in successors[node]:
                    if colour.get(target) == 1 and (node, target) not in reported:
                        reported.add((node, target))
                        self.error(
                            by_id[node].line,
                            f"step {node!r} loops back to {target!r} without a wait: add a "
                            "wait step inside the loop",
                        )
                    elif target not in colour:
                        visit(target)
            colour[node] = 2

        for step in track.steps:
            if step.id in reachable and step.id not in colour:
                visit(step.id)

    def check_references(self) -> None:
        """Report ``opened``/``clicked`` mentions of steps that send no email."""
        for reference in self.references:
            if reference.step in self.raw_send_ids:
                continue
            if reference.step in self.raw_other_ids:
                self.error(
                    reference.line,
                    f"{reference.kind}: step {reference.step!r} sends no email; "
                    f"{reference.kind} needs a send step",
                )
            else:
                self.error(
                    reference.line,
                    f"{reference.kind}: no send step {reference.step!r} in this campaign"
                    f"{self.did_you_mean(reference.step, sorted(self.raw_send_ids))}",
                )

    def check_shadowed_tracks(self) -> None:
        """Report tracks that an earlier track always takes the leads of."""
        tracks = self.matchable_tracks
        for index, later in enumerate(tracks):
            for earlier in tracks[:index]:
                if _covers(earlier.stages, later.stages) and _covers(
                    earlier.temperatures, later.temperatures
                ):
                    self.error(
                        later.line,
                        f"track {later.id!r} is never used: track {earlier.id!r} comes first "
                        "and takes every lead it would take (each lead goes to the first "
                        "matching track)",
                    )
                    break


def _covers(earlier: frozenset[str] | None, later: frozenset[str] | None) -> bool:
    if earlier is None:
        return True
    return later is not None and later <= earlier


def flow_successors(track: Track) -> dict[str, list[str]]:
    """For each step id, the step ids the engine may go to next (none after an exit)."""
    ids = track.step_ids()
    successors: dict[str, list[str]] = {}
    for index, step in enumerate(track.steps):
        following = [ids[index + 1]] if index + 1 < len(ids) else []
        if isinstance(step, ExitStep):
            successors[step.id] = []
        elif isinstance(step, BranchStep):
            targets: list[str] = []
            for target in (step.then, step.otherwise):
                targets.extend([target] if target is not None else following)
            successors[step.id] = [t for t in dict.fromkeys(targets) if t in ids]
        else:
            successors[step.id] = following
    return successors

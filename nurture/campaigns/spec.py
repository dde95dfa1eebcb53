"""The campaign model: what a campaign file means once parsed and validated.

These are plain frozen values with no I/O. The loader (``nurture.campaigns.loader``) builds them
from YAML and reports problems with file:line; the drip engine
(``nurture.campaigns.drip``) reads them.
Every step has an ``id`` that is stable across edits of the file: enrolments in flight
remember their position by track id and step id, never by index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

TEMPERATURES = ("cold", "warm", "hot")
TRIGGER_KINDS = ("lead_created", "event", "stage_changed", "attribute_changed")
RE_ENTRY_POLICIES = ("never", "after_finish", "always")
COMPARISON_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "contains")


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Opened:
    """True when the lead (a human, not a machine) opened the email sent by ``step``."""

    step: str


@dataclass(frozen=True)
class Clicked:
    """True when the lead clicked a link in the email of ``step`` (any link, or one
    whose URL contains ``url``)."""

    step: str
    url: str | None = None


@dataclass(frozen=True)
class StageIn:
    """True when the lead's lifecycle stage is one of ``stages``."""

    stages: frozenset[str]


@dataclass(frozen=True)
class TemperatureIn:
    """True when the lead's temperature (cold/warm/hot) is one of ``temperatures``."""

    temperatures: frozenset[str]


@dataclass(frozen=True)
class ScoreCompare:
    """Compare the lead's decayed behavioural score, e.g. ``op="gte", value=50``."""

    op: str
    value: float


@dataclass(frozen=True)
class AttributeCompare:
    """Compare a lead field or custom attribute (``title``, ``attributes.plan``,
    ``account.industry``) with ``value`` using ``op`` (one of COMPARISON_OPS)."""

    name: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class EventSeen:
    """True when the lead had an event of ``type`` (human) since it enrolled, or within
    ``within`` of now when given."""

    type: str
    within: timedelta | None = None


@dataclass(frozen=True)
class Unsubscribed:
    """True when the lead has unsubscribed or is otherwise not mailable."""


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = (
    Opened
    | Clicked
    | StageIn
    | TemperatureIn
    | ScoreCompare
    | AttributeCompare
    | EventSeen
    | Unsubscribed
    | AllOf
    | AnyOf
    | Not
)


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class SendStep:
    """Send the email ``template`` (a folder name under templates/)."""

    id: str
    template: str
    line: int = 0


@dataclass(frozen=True)
class WaitStep:
    """Wait ``duration``; and/or until the next ``weekday`` (0 = Monday) and/or clock
    ``at`` in the lead's timezone. With a duration and a clock time, wait the duration and
    then until that time of day."""

    id: str
    duration: timedelta | None = None
    weekday: int | None = None
    at: time | None = None
    line: int = 0


@dataclass(frozen=True)
class BranchStep:
    """If ``condition`` holds go to step ``then`` else to ``otherwise``; ``None`` means the
    next step in order. Targets are step ids in the same track."""

    id: str
    condition: Condition
    then: str | None = None
    otherwise: str | None = None
    line: int = 0


@dataclass(frozen=True)
class ExitStep:
    """End the enrolment here (``goal`` True counts it as a conversion)."""

    id: str
    reason: str = "completed"
    goal: bool = False
    line: int = 0


Step = SendStep | WaitStep | BranchStep | ExitStep


@dataclass(frozen=True)
class Track:
    """The steps for leads in some stages and/or temperatures. A track with neither
    ``stages`` nor ``temperatures`` matches every lead (a fallback)."""

    id: str
    steps: tuple[Step, ...]
    stages: frozenset[str] | None = None
    temperatures: frozenset[str] | None = None
    line: int = 0

    def matches(self, stage: str, temperature: str) -> bool:
        """True when a lead in ``stage`` at ``temperature`` belongs on this track."""
        return (self.stages is None or stage in self.stages) and (
            self.temperatures is None or temperature in self.temperatures
        )

    def step_ids(self) -> tuple[str, ...]:
        return tuple(step.id for step in self.steps)


# ---------------------------------------------------------------- campaign


@dataclass(frozen=True)
class Trigger:
    """What enrols a lead automatically.

    - ``lead_created``: a new lead (import, API, form).
    - ``event``: an event of ``event_type`` is recorded for the lead.
    - ``stage_changed``: the lead enters one of ``stages``.
    - ``attribute_changed``: ``attribute`` of the lead changes.
    """

    kind: str
    event_type: str | None = None
    stages: frozenset[str] | None = None
    attribute: str | None = None
    line: int = 0


@dataclass(frozen=True)
class SendWindow:
    """Days (0 = Monday) and hours in which emails may leave; ``timezone`` None means the
    lead's own timezone (falling back to the configured default)."""

    days: frozenset[int]
    start: time
    end: time
    timezone: str | None = None


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``max_emails`` campaign emails (from all campaigns) to one lead per ``per``."""

    max_emails: int
    per: timedelta


@dataclass(frozen=True)
class ReEntry:
    """Whether a lead may enrol again: ``never``; ``after_finish`` (once the previous
    enrolment ended, after ``cooldown``); ``always`` (even while enrolled: ignored; a lead
    has at most one active enrolment per campaign)."""

    policy: str = "never"
    cooldown: timedelta | None = None


@dataclass(frozen=True)
class Campaign:
    """A validated campaign."""

    id: str
    name: str
    tracks: tuple[Track, ...]
    description: str = ""
    triggers: tuple[Trigger, ...] = ()
    # Only leads for which this holds are enrolled (by triggers or manually).
    audience: Condition | None = None
    # Manual / API enrolment allowed.
    manual: bool = True
    # Conditions checked before every step: the first that holds ends the enrolment.
    exit_rules: tuple[tuple[str, Condition], ...] = ()
    # When this holds the enrolment ends as a conversion.
    goal: Condition | None = None
    re_entry: ReEntry = field(default_factory=ReEntry)
    # None: the configured default window.
    send_window: SendWindow | None = None
    # None: the configured default cap.
    frequency_cap: FrequencyCap | None = None
    # UTM parameters appended to links (the tracking issue applies them).
    utm: dict[str, str] = field(default_factory=dict)
    # Preference-centre topic (e.g. product-news); leads who opted out of it are not mailed.
    topic: str | None = None
    # What the preference centre calls the topic, by locale (``{"pl": "Porady KSeF"}``);
    # ``""`` is the label for every language without one of its own.
    topic_labels: dict[str, str] = field(default_factory=dict)
    # Where it was loaded from, and the checksum of its source text.
    source_path: str | None = None
    checksum: str = ""

    def track(self, track_id: str) -> Track | None:
        return next((track for track in self.tracks if track.id == track_id), None)

    def track_for(self, stage: str, temperature: str) -> Track | None:
        """The first track, in file order, that matches the lead."""
        return next((track for track in self.tracks if track.matches(stage, temperature)), None)

    def templates(self) -> frozenset[str]:
        """Every template any track sends."""
        return frozenset(
            step.template
            for track in self.tracks
            for step in track.steps
            if isinstance(step, SendStep)
        )


def step_key(track_id: str, step_id: str) -> str:
    """The unique key of a step within a campaign (used on messages and history)."""
    return f"{track_id}/{step_id}"

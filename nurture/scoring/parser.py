"""Reading scoring files: YAML text in, a :class:`ScoringModel` out, and every problem found
on the way with the file and line it belongs to.

It is built on the shared file machinery: ``nurture.files.yaml_lines`` keeps every line
number (and reads ``10:00``, ``NO`` and dates as text), and the generic checks of
``nurture.files.parser.Parser`` (unknown fields with "did you mean", text, numbers,
durations) are reused by subclassing it. Like the campaign loader, it never stops at the
first problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from nurture.files.parser import KEY_RE, Parser
from nurture.files.problems import Problem, ProblemsError, kind_name
from nurture.files.yaml_file import FileLoad, load_yaml_text, read_file
from nurture.files.yaml_lines import line_of, own_line
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue
from nurture.scoring.model import Bands, Cap, Conditions, Rule, ScoringModel

TOP_FIELDS = ("name", "description", "half_life", "bands", "rules")
RULE_FIELDS = ("id", "event", "points", "description", "when", "cap", "hand_raiser")
WHEN_FIELDS = ("url", "campaign", "template", "form", "properties")
CAP_FIELDS = ("per_day", "total")
BAND_FIELDS = ("warm", "hot")
# Events the scoring engine writes itself: scoring them would feed the score back into itself.
INTERNAL_EVENTS = frozenset({"score.changed", "temperature.changed", "lead.hand_raised"})
_EVENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
MAX_EVENT_TYPE = 60
MAX_RULES = 500
# Words people reach for that mean one of the field names above (see Parser.synonyms).
SYNONYMS = {"field": "name", "title": "name", "events": "event"}


class ScoringError(ProblemsError):
    """Raised by :func:`parse_scoring_data` when the data is not a valid scoring model."""


@dataclass(frozen=True)
class ScoringLoad(FileLoad[ScoringModel]):
    """What loading one scoring file gave: the model when valid, and every problem."""

    @property
    def model(self) -> ScoringModel | None:
        """The scoring model (``value``) when the file is valid."""
        return self.value


def load_scoring_file(path: str | Path, *, catalogue: EventCatalogue = ANY_CUSTOM) -> ScoringLoad:
    """Read and parse one scoring file; an unreadable file is reported as a problem.
    ``catalogue``: the event types its rules may name (``nurture.files.event_catalogue``)."""
    return read_file(
        path, lambda text, name: load_scoring_text(text, name, catalogue=catalogue), ScoringLoad
    )


def load_scoring_text(
    text: str, path: str | Path = "<scoring>", *, catalogue: EventCatalogue = ANY_CUSTOM
) -> ScoringLoad:
    """Parse scoring YAML ``text`` (``path`` names it in problems)."""
    name = str(path)

    def build(data: Mapping[Any, Any], digest: str) -> tuple[ScoringModel | None, list[Problem]]:
        parser = ScoringParser(name, catalogue=catalogue)
        return parser.model(data, source_path=name, checksum=digest), parser.problems

    return load_yaml_text(
        text,
        name,
        "a scoring file must be a mapping (name, half_life, bands, rules)",
        build,
        ScoringLoad,
    )


def parse_scoring_data(
    data: Mapping[str, Any], source_path: str | None = None, *, checksum: str = ""
) -> ScoringModel:
    """Build a model from plain data (a stored version's spec). Raises ScoringError."""
    parser = ScoringParser(source_path or "<spec>")
    if not isinstance(data, Mapping):
        raise ScoringError([Problem(parser.path, 0, "a scoring spec must be a mapping")])
    model = parser.model(data, source_path=source_path, checksum=checksum)
    if parser.problems or model is None:
        raise ScoringError(parser.problems)
    return model


class ScoringParser(Parser):
    """The generic field checks, applied to the fields of a scoring file."""

    synonyms = SYNONYMS

    def model(
        self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str
    ) -> ScoringModel | None:
        line = own_line(data, 0)
        self.fields(data, TOP_FIELDS, line)
        name, description = self.name_and_description(data, line, "the scoring file")
        half_life = None
        if self.required(data, "half_life", line, "the scoring file"):
            half_life = self.duration(
                data["half_life"], line_of(data, "half_life", line), "half_life"
            )
        bands = None
        if self.required(data, "bands", line, "the scoring file"):
            bands = self.bands(data["bands"], line_of(data, "bands", line))
        rules: tuple[Rule, ...] = ()
        if self.required(data, "rules", line, "the scoring file"):
            rules = self.rules(data["rules"], line_of(data, "rules", line))
        if name is None or half_life is None or bands is None or self.problems:
            return None
        return ScoringModel(
            name=name,
            half_life=half_life,
            bands=bands,
            rules=rules,
            description=description,
            checksum=checksum,
            source_path=source_path,
        )

    def bands(self, value: Any, line: int) -> Bands | None:
        bands = self.mapping(value, line, "bands")
        if bands is None:
            return None
        self.fields(bands, BAND_FIELDS, line)
        found: dict[str, float] = {}
        for key in BAND_FIELDS:
            if not self.required(bands, key, line, "bands"):
                continue
            number = self.number(bands[key], line_of(bands, key, line), f"bands.{key}")
            if number is None:
                continue
            if number <= 0:
                self.error(
                    line_of(bands, key, line),
                    f"bands.{key} must be above zero: scores below it are cold",
                )
                continue
            found[key] = float(number)
        if len(found) < 2:
            return None
        if found["hot"] <= found["warm"]:
            self.error(
                line_of(bands, "hot", line),
                f"bands.hot ({found['hot']:g}) must be above bands.warm ({found['warm']:g})",
            )
            return None
        return Bands(warm=found["warm"], hot=found["hot"])

    def rules(self, value: Any, line: int) -> tuple[Rule, ...]:
        if not isinstance(value, list) or not value:
            shown = "an empty list" if isinstance(value, list) else kind_name(value)
            self.error(own_line(value, line), f"rules must be a list of rules, not {shown}")
            return ()
        if len(value) > MAX_RULES:
            self.error(line, f"at most {MAX_RULES} rules, got {len(value)}")
            return ()
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            item_line = line_of(value, index, line)
            rule = self.rule(item, item_line)
            if rule is None:
                continue
            if rule.id in seen:
                self.error(
                    rule.line, f"duplicate rule id {rule.id!r} (first on line {seen[rule.id]})"
                )
                continue
            seen[rule.id] = rule.line
            catch_all = next(
                (
                    earlier
                    for earlier in rules
                    if earlier.event == rule.event and earlier.conditions == Conditions()
                ),
                None,
            )
            if catch_all is not None:
                self.error(
                    rule.line,
                    f"rule {rule.id!r} never applies: rule {catch_all.id!r} on line "
                    f"{catch_all.line} has no conditions and scores every {rule.event} event "
                    "first (put specific rules before general ones)",
                )
            rules.append(rule)
        return tuple(rules)

    def rule(self, value: Any, line: int) -> Rule | None:
        spec = self.mapping(value, line, "a rule")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, RULE_FIELDS, line)
        rule_id = event = points = None
        if self.required(spec, "id", line, "the rule"):
            rule_id = self.identifier(
                spec["id"],
                line_of(spec, "id", line),
                "rule id",
                KEY_RE,
                "lower-case letters, digits and dashes (e.g. pricing-page)",
            )
        if self.required(spec, "event", line, f"rule {rule_id or '?'}"):
            event = self.scored_event(spec["event"], line_of(spec, "event", line))
        if self.required(spec, "points", line, f"rule {rule_id or '?'}"):
            points_line = line_of(spec, "points", line)
            points = self.number(spec["points"], points_line, "points")
            if points == 0:
                self.error(points_line, "points must not be zero (remove the rule instead)")
        description = ""
        if spec.get("description") is not None:
            description = (
                self.text(spec["description"], line_of(spec, "description", line), "description")
                or ""
            )
        conditions = Conditions()
        if spec.get("when") is not None:
            when_line = line_of(spec, "when", line)
            conditions = self.conditions(spec["when"], when_line)
            if event is not None:
                self.event_properties(event, spec["when"], when_line)
        cap = Cap()
        if spec.get("cap") is not None:
            cap = self.cap(spec["cap"], line_of(spec, "cap", line))
        hand_raiser = False
        if spec.get("hand_raiser") is not None:
            hand_raiser = bool(
                self.boolean(spec["hand_raiser"], line_of(spec, "hand_raiser", line), "hand_raiser")
            )
            if hand_raiser and points is not None and points < 0:
                self.error(
                    line_of(spec, "hand_raiser", line),
                    "a hand-raiser rule must give positive points",
                )
        if len(self.problems) > before or rule_id is None or event is None or points is None:
            return None
        return Rule(
            id=rule_id,
            event=event,
            points=float(points),
            description=description,
            conditions=conditions,
            cap=cap,
            hand_raiser=hand_raiser,
            line=line,
        )

    def scored_event(self, value: Any, line: int) -> str | None:
        event = self.text(value, line, "event type", max_length=MAX_EVENT_TYPE)
        if event is None:
            return None
        if not _EVENT_RE.match(event):
            self.error(
                line, f"event type {event!r} may only use letters, digits, '_', '.', ':' and '-'"
            )
            return None
        if event in INTERNAL_EVENTS:
            self.error(
                line,
                f"{event} is written by the scoring engine itself and cannot be scored "
                "(it would feed the score back into itself)",
            )
            return None
        if not self.known_event_type(event, line):
            return None
        return event

    def conditions(self, value: Any, line: int) -> Conditions:
        when = self.mapping(value, line, "when")
        if when is None:
            return Conditions()
        self.fields(when, WHEN_FIELDS, line)
        if not when:
            self.error(line, "when needs at least one condition: " + ", ".join(WHEN_FIELDS))
        texts = {
            key: self.patterns(when[key], line_of(when, key, line), f"when.{key}")
            for key in ("url", "campaign", "template", "form")
            if key in when
        }
        properties: list[tuple[str, tuple[Any, ...]]] = []
        if "properties" in when:
            props_line = line_of(when, "properties", line)
            props = self.mapping(when["properties"], props_line, "when.properties")
            for name, expected in (props or {}).items():
                item_line = line_of(props, name, props_line)
                if not isinstance(name, str) or not name:
                    self.error(item_line, "a property name must be text")
                    continue
                values = expected if isinstance(expected, list) else [expected]
                if not values or any(isinstance(v, dict | list) or v is None for v in values):
                    self.error(
                        item_line,
                        f"when.properties.{name} must be a value or a list of values",
                    )
                    continue
                properties.append((name, tuple(values)))
        return Conditions(
            urls=texts.get("url", ()),
            campaigns=texts.get("campaign", ()),
            templates=texts.get("template", ()),
            forms=texts.get("form", ()),
            properties=tuple(properties),
        )

    def event_properties(self, event: str, when: Any, line: int) -> None:
        """Each ``when.properties`` name must be one the event type carries (a custom type
        declared with its list of properties carries only those)."""
        props = when.get("properties") if isinstance(when, Mapping) else None
        if not isinstance(props, Mapping):
            return
        props_line = line_of(when, "properties", line)
        for name in props:
            if isinstance(name, str):
                self.known_property(event, name, line_of(props, name, props_line))

    def patterns(self, value: Any, line: int, what: str) -> tuple[str, ...]:
        """A text or a list of texts (any of them matches)."""
        items = value if isinstance(value, list) else [value]
        if not items:
            self.error(line, f"{what} needs at least one value")
        found = []
        for index, item in enumerate(items):
            text = self.text(item, line_of(value, index, line), what)
            if text is not None:
                found.append(text)
        return tuple(found)

    def cap(self, value: Any, line: int) -> Cap:
        spec = self.mapping(value, line, "cap")
        if spec is None:
            return Cap()
        self.fields(spec, CAP_FIELDS, line)
        if not any(key in spec for key in CAP_FIELDS):
            self.error(line, "cap needs per_day and/or total (points)")
        limits: dict[str, float | None] = {}
        for key in CAP_FIELDS:
            if spec.get(key) is None:
                continue
            key_line = line_of(spec, key, line)
            number = self.number(spec[key], key_line, f"cap.{key}")
            if number is not None and number <= 0:
                self.error(key_line, f"cap.{key} must be above zero")
                number = None
            limits[key] = None if number is None else float(number)
        per_day, total = limits.get("per_day"), limits.get("total")
        if per_day is not None and total is not None and per_day > total:
            self.error(
                line_of(spec, "per_day", line),
                f"cap.per_day ({per_day:g}) is above cap.total ({total:g})",
            )
        return Cap(per_day=per_day, total=total)


def half_life_text(half_life: timedelta) -> str:
    """A half-life for people: ``30 days``, ``36 hours``."""
    days = half_life.total_seconds() / 86400
    if days >= 1:
        return f"{days:g} day{'' if days == 1 else 's'}"
    return f"{half_life.total_seconds() / 3600:g} hours"

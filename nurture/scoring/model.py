"""The scoring model: what a scoring file means, as frozen values (pure).

A model is a list of rules in file order. Each human event is scored by the first rule
whose event type and conditions match it (so a specific rule such as "careers page: −10"
placed before a general "any page: +1" wins, the way firewall rules read). Points may be
capped per UTC day and in total per rule; every award decays with the model's half-life.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

TEMPERATURES = ("cold", "warm", "hot")
# Properties a form name may be sent under, in the order they are looked at.
FORM_PROPERTIES = ("form", "form_name", "form_id")
# How many distinct sets of event facts a model remembers the matching rule of.
_MATCH_MEMORY = 4096


@dataclass(frozen=True)
class EventFacts:
    """What the rules may look at in one event (plain values; built from an ``events`` row).

    ``campaign`` is the key of the campaign that sent the email, ``template`` the email's
    template, both None for events that are not about an email.
    """

    id: int
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)
    campaign: str | None = None
    template: str | None = None


@dataclass(frozen=True)
class Conditions:
    """Extra conditions on an event; every one given must hold (a list means any of)."""

    urls: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    properties: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def matches(self, event: EventFacts) -> bool:
        """True when ``event`` meets every condition."""
        props = event.properties or {}
        if self.urls and not any(url_matches(p, props.get("url")) for p in self.urls):
            return False
        if self.campaigns and not any(value_matches(p, event.campaign) for p in self.campaigns):
            return False
        if self.templates and not any(value_matches(p, event.template) for p in self.templates):
            return False
        if self.forms:
            form = next((props[k] for k in FORM_PROPERTIES if props.get(k) is not None), None)
            if not any(value_matches(p, form) for p in self.forms):
                return False
        for name, patterns in self.properties:
            if not any(value_matches(p, props.get(name)) for p in patterns):
                return False
        return True


def url_matches(pattern: str, url: Any) -> bool:
    """Glob match, case-insensitive. A pattern starting with ``/`` is matched against the
    URL's path (so ``/pricing*`` works whatever the host); any other against the whole URL."""
    if not isinstance(url, str) or not url:
        return False
    target = url
    if pattern.startswith("/"):
        target = urlsplit(url).path or "/"
    return fnmatch.fnmatchcase(target.lower(), pattern.lower())


def value_matches(pattern: Any, value: Any) -> bool:
    """Text patterns are case-insensitive globs on the value as text; others compare equal."""
    if value is None:
        return False
    if isinstance(pattern, str):
        text = value if isinstance(value, str) else str(value).lower()
        return fnmatch.fnmatchcase(text.lower(), pattern.lower())
    return bool(pattern == value)


@dataclass(frozen=True)
class Cap:
    """At most this many points (in absolute value) per UTC day and in total, per rule."""

    per_day: float | None = None
    total: float | None = None


@dataclass(frozen=True)
class Rule:
    """Points for events of one type that meet the conditions."""

    id: str
    event: str
    points: float
    description: str = ""
    conditions: Conditions = field(default_factory=Conditions)
    cap: Cap = field(default_factory=Cap)
    hand_raiser: bool = False
    # Where the rule is written (0 for stored specs); not part of what the rule means.
    line: int = field(default=0, compare=False)

    def matches(self, event: EventFacts) -> bool:
        """True when this rule applies to ``event``."""
        return event.type == self.event and self.conditions.matches(event)


@dataclass(frozen=True)
class Bands:
    """Temperature thresholds on the decayed score: hot ≥ ``hot`` > warm ≥ ``warm`` > cold."""

    warm: float
    hot: float

    def temperature(self, score: float) -> str:
        """The band a decayed score falls in."""
        if score >= self.hot:
            return "hot"
        if score >= self.warm:
            return "warm"
        return "cold"

    def floor(self, temperature: str) -> float | None:
        """The lowest score of a band (None for cold, which has no floor)."""
        return {"hot": self.hot, "warm": self.warm}.get(temperature)


@dataclass(frozen=True)
class ScoringModel:
    """A whole scoring file."""

    name: str
    half_life: timedelta
    bands: Bands
    rules: tuple[Rule, ...]
    description: str = ""
    checksum: str = ""
    source_path: str | None = None
    # Which rule scores events that look alike (see ``rule_for``); not part of the model.
    _matched: dict[tuple[Any, ...], Rule | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    # The event properties some rule's conditions read.
    _property_names: tuple[str, ...] = field(
        default=(), init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        names = {name for rule in self.rules for name, _ in rule.conditions.properties}
        object.__setattr__(self, "_property_names", tuple(sorted(names)))

    @property
    def event_types(self) -> frozenset[str]:
        """Every event type some rule scores (the only events worth loading)."""
        return frozenset(rule.event for rule in self.rules)

    def rule_for(self, event: EventFacts) -> Rule | None:
        """The first rule, in file order, that applies to ``event``.

        A busy lead's history repeats itself (the same pages, the same emails), and glob
        matching URLs is most of the cost of a score: the answer is remembered per set of
        the facts the rules look at, so each distinct one is matched once per model.
        """
        key = self._facts_key(event)
        if key is None:
            return self._first_match(event)
        try:
            return self._matched[key]
        except KeyError:
            pass
        if len(self._matched) >= _MATCH_MEMORY:
            self._matched.clear()
        rule = self._matched[key] = self._first_match(event)
        return rule

    def _first_match(self, event: EventFacts) -> Rule | None:
        for rule in self.rules:
            if rule.matches(event):
                return rule
        return None

    def _facts_key(self, event: EventFacts) -> tuple[Any, ...] | None:
        """Every fact a rule's conditions may read, or None when one is not hashable."""
        props = event.properties or {}
        form = next((props[k] for k in FORM_PROPERTIES if props.get(k) is not None), None)
        # With each value's type: 1, 1.0 and True are one dict key but match apart.
        values = (props.get("url"), form, *(props.get(name) for name in self._property_names))
        key = (
            event.type,
            event.campaign,
            event.template,
            *((type(value), value) for value in values),
        )
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with id ``rule_id``."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)


def is_hand_raiser(event: EventFacts, model: ScoringModel) -> bool:
    """True when ``event`` is a hand-raise under ``model``: the rule that scores it is flagged
    ``hand_raiser`` (a demo request, a "talk to sales" form). Machine events never are; the
    caller passes human events only."""
    rule = model.rule_for(event)
    return rule is not None and rule.hand_raiser

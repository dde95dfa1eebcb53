"""The condition grammar of a campaign file: conditions, exit rules and the names they use.

A condition is a mapping (``stage: [lead]``, ``score: {gte: 50}``, ``all: [...]``); several
keys in one mapping must all hold. Conditions appear in an ``if`` step, the entry audience,
exit rules and the goal. :class:`ConditionParser` reads them, and remembers each
``opened``/``clicked`` mention of a step so the whole-campaign checks can tell whether it
names a send step. :class:`FieldNameParser` reads the lead and account field names
conditions compare, for any file that names lead fields the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nurture.campaigns.describe import describe
from nurture.campaigns.spec import (
    COMPARISON_OPS,
    TEMPERATURES,
    AllOf,
    AnyOf,
    AttributeCompare,
    Clicked,
    Condition,
    EventSeen,
    Not,
    Opened,
    ScoreCompare,
    StageIn,
    TemperatureIn,
    Unsubscribed,
)
from nurture.campaigns.vocabulary import (
    ACCOUNT_FIELD_NAMES,
    CLICKED_FIELDS,
    CONDITION_KEYS,
    EVENT_FIELDS,
    EVENT_TYPE_RE,
    EXIT_RULE_FIELDS,
    LEAD_FIELD_NAMES,
    MAX_EVENT_TYPE,
    MAX_REASON,
    SCORE_OPS,
    SYNONYMS,
)
from nurture.files.parser import Parser, human_list
from nurture.files.problems import kind_name
from nurture.files.yaml_lines import line_of, own_line
from nurture.leads.stages import LIFECYCLE_STAGES


@dataclass
class _Reference:
    """An ``opened:``/``clicked:`` mention of a step, checked once all tracks are read."""

    step: str
    line: int
    kind: str


class FieldNameParser(Parser):
    """Reads the name of a lead or account field as conditions write it.

    Its own class because other files name lead fields the same way (the ICP's ``field:``),
    and their suggestions always come from the campaign's words, whatever the subclass's.
    """

    def attribute_name(self, value: Any, line: int) -> str | None:
        """A lead field, ``attributes.NAME``, ``account.FIELD`` or ``account.attributes.NAME``."""
        name = self.text(value, line, "attribute name")
        if name is None:
            return None
        if name.startswith("attributes.") and len(name) > len("attributes."):
            return name
        if name.startswith("account.attributes.") and len(name) > len("account.attributes."):
            return name
        if name.startswith("account."):
            field_name = name.removeprefix("account.")
            if field_name in ACCOUNT_FIELD_NAMES:
                return name
            self.error(
                line,
                f"unknown account field {field_name!r}"
                f"{self.did_you_mean(field_name, ACCOUNT_FIELD_NAMES, SYNONYMS)}: use "
                f"{human_list(ACCOUNT_FIELD_NAMES)}, or account.attributes.NAME",
            )
            return None
        if name in LEAD_FIELD_NAMES:
            return name
        known = [*LEAD_FIELD_NAMES, *(f"account.{field}" for field in ACCOUNT_FIELD_NAMES)]
        self.error(
            line,
            f"unknown lead field {name!r}{self.did_you_mean(name, known, SYNONYMS)}: use a "
            f"lead field ({human_list(LEAD_FIELD_NAMES)}), attributes.NAME, account.FIELD or "
            "account.attributes.NAME",
        )
        return None


@dataclass
class ConditionParser(FieldNameParser):
    """Reads conditions and exit rules, collecting problems; the base of the campaign grammar."""

    synonyms = SYNONYMS

    references: list[_Reference] = field(default_factory=list)

    def event_type(self, value: Any, line: int) -> str | None:
        """An event type as conditions and triggers name it (``webinar.attended``)."""
        event_type = self.text(value, line, "event type", max_length=MAX_EVENT_TYPE)
        if event_type is not None and not EVENT_TYPE_RE.match(event_type):
            self.error(
                line,
                f"event type {event_type!r} may only use letters, digits, '_', '.', ':' and '-'",
            )
            return None
        if event_type is not None and not self.known_event_type(event_type, line):
            return None
        return event_type

    def exit_rules(self, value: Any, line: int) -> tuple[tuple[str, Condition], ...]:
        """The campaign's exit rules, each named by its reason or by a reading of its condition."""
        items = value if isinstance(value, list) else [value]
        rules: list[tuple[str, Condition]] = []
        for index, item in enumerate(items):
            item_line = line_of(value, index, line)
            rule = self.mapping(item, item_line, "an exit rule")
            if rule is None:
                continue
            if "when" in rule:
                self.fields(rule, EXIT_RULE_FIELDS, item_line)
                condition = self.condition(rule["when"], line_of(rule, "when", item_line), "when")
                reason = None
                if rule.get("reason") is not None:
                    reason = self.text(
                        rule["reason"],
                        line_of(rule, "reason", item_line),
                        "reason",
                        max_length=MAX_REASON,
                    )
                    if reason is None:
                        continue
            else:
                condition = self.condition(rule, item_line, "an exit rule")
                reason = None
            if condition is not None:
                rules.append((reason or describe(condition), condition))
        return tuple(rules)

    # -------------------------------------------------------- conditions

    def condition(self, value: Any, line: int, what: str) -> Condition | None:
        """A condition mapping; several keys in one mapping must all hold."""
        spec = self.mapping(value, line, what)
        if spec is None:
            return None
        line = own_line(spec, line)
        if not spec:
            self.error(line, f"{what} is empty: give a condition such as `stage: [lead]`")
            return None
        parts: list[Condition] = []
        ok = True
        for key, argument in spec.items():
            key_line = line_of(spec, key, line)
            if key not in CONDITION_KEYS:
                self.error(
                    key_line,
                    f"unknown condition {key!r}{self.did_you_mean(key, CONDITION_KEYS)}: use "
                    f"{human_list(CONDITION_KEYS)}",
                )
                ok = False
                continue
            part = self.condition_part(key, argument, key_line)
            if part is None:
                ok = False
            else:
                parts.append(part)
        if not ok:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def condition_part(self, key: str, argument: Any, line: int) -> Condition | None:
        """One key of a condition mapping, already known to be a condition key."""
        if key == "opened":
            step = self.text(argument, line, "opened (a send step id)")
            if step is None:
                return None
            self.references.append(_Reference(step, line, "opened"))
            return Opened(step)
        if key == "clicked":
            return self.clicked(argument, line)
        if key == "stage":
            stages = self.names(argument, line, "stage", LIFECYCLE_STAGES, "stage")
            return None if stages is None else StageIn(stages)
        if key == "temperature":
            temps = self.names(argument, line, "temperature", TEMPERATURES, "temperature")
            return None if temps is None else TemperatureIn(temps)
        if key == "score":
            return self.score(argument, line)
        if key == "attribute":
            return self.attribute(argument, line)
        if key == "event":
            return self.event(argument, line)
        if key == "unsubscribed":
            flag = self.boolean(argument, line, "unsubscribed")
            if flag is None:
                return None
            return Unsubscribed() if flag else Not(Unsubscribed())
        if key in ("all", "any"):
            items = argument if isinstance(argument, list) else None
            if not items:
                self.error(
                    line,
                    f"{key} needs a list of conditions, e.g. "
                    f"`{key}: [{{stage: [lead]}}, {{score: {{gte: 50}}}}]`",
                )
                return None
            conditions = [
                self.condition(item, line_of(argument, index, line), f"an item of {key}")
                for index, item in enumerate(items)
            ]
            if any(condition is None for condition in conditions):
                return None
            built = tuple(c for c in conditions if c is not None)
            return AllOf(built) if key == "all" else AnyOf(built)
        # not
        inner = self.condition(argument, line, "not")
        return None if inner is None else Not(inner)

    def clicked(self, argument: Any, line: int) -> Clicked | None:
        """``clicked: STEP`` or ``clicked: {step: STEP, url: URL}``."""
        url = None
        if isinstance(argument, Mapping):
            self.fields(argument, CLICKED_FIELDS, line)
            if not self.required(argument, "step", line, "clicked"):
                return None
            step = self.text(argument["step"], line_of(argument, "step", line), "clicked step")
            if argument.get("url") is not None:
                url = self.text(argument["url"], line_of(argument, "url", line), "clicked url")
                if url is None:
                    return None
        else:
            step = self.text(argument, line, "clicked (a send step id)")
        if step is None:
            return None
        self.references.append(_Reference(step, line, "clicked"))
        return Clicked(step, url)

    def score(self, argument: Any, line: int) -> Condition | None:
        """``score: {gte: 50}``; several comparisons must all hold."""
        if not isinstance(argument, Mapping) or not argument:
            self.error(line, f"score needs a comparison such as {{gte: 50}}, not {argument!r}")
            return None
        parts: list[Condition] = []
        ok = True
        for op, raw in argument.items():
            op_line = line_of(argument, op, line)
            if op not in SCORE_OPS:
                self.error(
                    op_line,
                    f"unknown score comparison {op!r}{self.did_you_mean(op, SCORE_OPS)}: "
                    f"use {human_list(SCORE_OPS)}",
                )
                ok = False
                continue
            number = self.number(raw, op_line, f"score {op}")
            if number is None:
                ok = False
            else:
                parts.append(ScoreCompare(op, float(number)))
        if not ok:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def attribute(self, argument: Any, line: int) -> AttributeCompare | None:
        """A comparison of a lead or account field: ``op:``/``value:`` or one shorthand key."""
        spec = self.mapping(argument, line, "attribute")
        if spec is None:
            return None
        allowed = ("name", "op", "value", *COMPARISON_OPS)
        self.fields(spec, allowed, line)
        if not self.required(spec, "name", line, "attribute"):
            return None
        name = self.attribute_name(spec["name"], line_of(spec, "name", line))
        shorthand = [key for key in spec if key in COMPARISON_OPS]
        if "op" in spec:
            if shorthand:
                self.error(
                    line, "write either `op: …, value: …` or one comparison such as `in: […]`"
                )
                return None
            op = spec["op"]
            op_line = line_of(spec, "op", line)
            if op not in COMPARISON_OPS:
                self.error(
                    op_line,
                    f"unknown comparison {op!r}{self.did_you_mean(op, COMPARISON_OPS)}: "
                    f"use {human_list(COMPARISON_OPS)}",
                )
                return None
            value, value_line = spec.get("value"), line_of(spec, "value", op_line)
        elif len(shorthand) == 1:
            op = shorthand[0]
            value, value_line = spec[op], line_of(spec, op, line)
            if "value" in spec:
                self.error(line_of(spec, "value", line), f"`value` is not needed with `{op}:`")
                return None
        else:
            self.error(
                line,
                "attribute needs one comparison, e.g. `{name: account.industry, in: [saas]}` "
                "or `{name: title, op: contains, value: director}`",
            )
            return None
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.error(value_line, f"{op} needs a list of values, e.g. [software, saas]")
                return None
            if not all(_is_plain_value(item) and item is not None for item in value):
                self.error(value_line, f"{op}: each value must be plain text or a number")
                return None
            value = tuple(value)
        elif op == "exists":
            if value is None:
                value = True
            elif not isinstance(value, bool):
                self.error(value_line, f"exists must be true or false, not {value!r}")
                return None
        elif not _is_plain_value(value):
            self.error(value_line, f"{op} compares with one value, not {kind_name(value)}")
            return None
        elif value is None and op not in ("eq", "ne"):
            self.error(value_line, f"{op} needs a value")
            return None
        if name is None:
            return None
        return AttributeCompare(name, op, value)

    def event(self, argument: Any, line: int) -> EventSeen | None:
        """``event: TYPE`` or ``event: {type: TYPE, within: DURATION}``."""
        if isinstance(argument, Mapping):
            self.fields(argument, EVENT_FIELDS, line)
            if not self.required(argument, "type", line, "event"):
                return None
            event_type = self.event_type(argument["type"], line_of(argument, "type", line))
            within = None
            if argument.get("within") is not None:
                within = self.duration(
                    argument["within"], line_of(argument, "within", line), "within"
                )
                if within is None:
                    return None
            return None if event_type is None else EventSeen(event_type, within)
        event_type = self.event_type(argument, line)
        return None if event_type is None else EventSeen(event_type)

    def check_audience(self, audience: Condition, line: int) -> None:
        """Report an audience that uses opened or clicked."""
        if _mentions_emails(audience):
            self.error(
                line,
                "audience cannot use opened or clicked: those refer to this campaign's "
                "emails, which a lead has not had before enrolling",
            )


def _is_plain_value(value: Any) -> bool:
    # Only values JSON can store exactly: a version's spec is kept as JSON and re-parsed.
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def _mentions_emails(condition: Condition) -> bool:
    match condition:
        case Opened() | Clicked():
            return True
        case AllOf(items=items) | AnyOf(items=items):
            return any(_mentions_emails(item) for item in items)
        case Not(item=item):
            return _mentions_emails(item)
    return False

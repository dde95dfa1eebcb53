"""The meaning of a campaign file: YAML data in, schema objects and problems out.

:class:`Parser` walks the data (line-annotated by ``nurture.files.yaml_lines``, or plain JSON
from a stored version) field by field, builds :mod:`campaigns.schema` values and collects
every problem with its line instead of stopping at the first. After all tracks are read it
checks what needs the whole campaign: branch targets, unreachable steps, loops without a
wait, ``opened``/``clicked`` references, and tracks hidden behind earlier ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.campaigns.spec import (
    COMPARISON_OPS,
    LIFECYCLE_STAGES,
    RE_ENTRY_POLICIES,
    TEMPERATURES,
    AllOf,
    AnyOf,
    AttributeCompare,
    BranchStep,
    Campaign,
    Clicked,
    Condition,
    EventSeen,
    ExitStep,
    FrequencyCap,
    Not,
    Opened,
    ReEntry,
    ScoreCompare,
    SendStep,
    SendWindow,
    StageIn,
    Step,
    TemperatureIn,
    Track,
    Trigger,
    Unsubscribed,
    WaitStep,
)
from nurture.files.parser import (
    KEY_RE,
    MAX_KEY,
    MAX_NAME,
    WEEKDAY_NAMES,
    Parser,
    human_list,
    weekday_token,
)
from nurture.files.problems import ProblemsError, kind_name
from nurture.files.yaml_lines import line_of, own_line

# ---------------------------------------------------------------- vocabulary

TOP_FIELDS = (
    "id",
    "name",
    "description",
    "topic",
    "entry",
    "re_entry",
    "send_window",
    "frequency_cap",
    "utm",
    "exit",
    "goal",
    "tracks",
)
ENTRY_FIELDS = ("triggers", "audience", "manual")
TRACK_FIELDS = ("when", "steps")
WHEN_FIELDS = ("stage", "temperature")
STEP_KINDS = ("send", "wait", "if", "exit")
STEP_FIELDS = {
    "send": ("id", "send"),
    "wait": ("id", "wait"),
    "if": ("id", "if", "then", "else"),
    "exit": ("id", "exit"),
}
ALL_STEP_FIELDS = ("id", "send", "wait", "if", "then", "else", "exit")
WAIT_FIELDS = ("duration", "until", "at")
EXIT_STEP_FIELDS = ("reason", "goal")
EXIT_RULE_FIELDS = ("when", "reason")
RE_ENTRY_FIELDS = ("policy", "cooldown")
WINDOW_FIELDS = ("days", "hours", "timezone")
CAP_FIELDS = ("max", "per")
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
CONDITION_KEYS = (
    "opened",
    "clicked",
    "stage",
    "temperature",
    "score",
    "attribute",
    "event",
    "unsubscribed",
    "all",
    "any",
    "not",
)
CLICKED_FIELDS = ("step", "url")
EVENT_FIELDS = ("type", "within")
SCORE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
TRIGGER_FORMS = ("lead_created", "event", "stage_changed", "attribute_changed")

# The names an ``attribute`` condition may compare: exactly what the engine gathers for
# a lead (``nurture.campaigns.facts.lead_fields`` reads these same tuples); anything else
# would never match.
LEAD_FIELD_NAMES = (
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "timezone",
    "locale",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "stage",
    "temperature",
)
ACCOUNT_FIELD_NAMES = (
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "branches",
    "country",
)

# Words people reach for that mean one of a campaign's names. difflib only catches typos
# ("wiat"), not synonyms ("delay"), so the common ones are listed here.
SYNONYMS = {
    "delay": "wait",
    "pause": "wait",
    "sleep": "wait",
    "email": "send",
    "mail": "send",
    "template": "send",
    "condition": "if",
    "goto": "then",
    "next": "then",
    "otherwise": "else",
    "stop": "exit",
    "end": "exit",
    "exits": "exit",
    "stages": "stage",
    "lifecycle": "stage",
    "temperatures": "temperature",
    "temp": "temperature",
    "and": "all",
    "or": "any",
    "trigger": "triggers",
    "window": "send_window",
    "cap": "frequency_cap",
    "reentry": "re_entry",
    "track": "tracks",
    "step": "steps",
    "events": "event",
    "unsubscribe": "unsubscribed",
    "open": "opened",
    "opens": "opened",
    "click": "clicked",
    "clicks": "clicked",
    "tz": "timezone",
    "zone": "timezone",
    "weekdays": "days",
    "time": "hours",
    "limit": "max",
    "count": "max",
    "within": "per",
    "field": "name",
    "title": "name",
}

_ID_RULE = "letters, digits, '-', '_', '.' and '?'"
_STEP_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.?-]*$")
_TEMPLATE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EVENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
# Column sizes of the rows these values end up in (campaigns.key, enrollments.step, ...).
MAX_REASON = 200
MAX_EVENT_TYPE = 60


class CampaignError(ProblemsError):
    """Raised by :func:`parse_campaign_data` when the data is not a valid campaign."""


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
class CampaignParser(FieldNameParser):
    """Turns plain or line-annotated campaign data into schema objects, collecting problems."""

    synonyms = SYNONYMS

    references: list[_Reference] = field(default_factory=list)
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

    # -------------------------------------------------------- the campaign

    def campaign(
        self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str
    ) -> Campaign | None:
        line = own_line(data, 0)
        self.fields(data, TOP_FIELDS, line)

        key = None
        if self.required(data, "id", line, "the campaign"):
            key = self.identifier(
                data["id"],
                line_of(data, "id", line),
                "campaign id",
                KEY_RE,
                "lower-case letters, digits and dashes (e.g. b2b-nurture)",
            )
        name = None
        if self.required(data, "name", line, "the campaign"):
            name = self.text(data["name"], line_of(data, "name", line), "name", max_length=MAX_NAME)
        description = ""
        if data.get("description") is not None:
            description = (
                self.text(data["description"], line_of(data, "description", line), "description")
                or ""
            )

        topic = None
        if data.get("topic") is not None:
            topic = self.identifier(
                data["topic"],
                line_of(data, "topic", line),
                "topic",
                KEY_RE,
                "lower-case letters, digits and dashes (e.g. product-news)",
            )

        triggers: tuple[Trigger, ...] = ()
        audience: Condition | None = None
        manual = True
        if data.get("entry") is not None:
            entry = self.entry(data["entry"], line_of(data, "entry", line))
            if entry is not None:
                triggers, audience, manual = entry

        re_entry = ReEntry()
        if data.get("re_entry") is not None:
            re_entry = self.re_entry(data["re_entry"], line_of(data, "re_entry", line)) or re_entry
        window = None
        if data.get("send_window") is not None:
            window = self.send_window(data["send_window"], line_of(data, "send_window", line))
        cap = None
        if data.get("frequency_cap") is not None:
            cap = self.frequency_cap(data["frequency_cap"], line_of(data, "frequency_cap", line))
        utm: dict[str, str] = {}
        if data.get("utm") is not None:
            utm = self.utm(data["utm"], line_of(data, "utm", line))

        exit_rules: tuple[tuple[str, Condition], ...] = ()
        if data.get("exit") is not None:
            exit_rules = self.exit_rules(data["exit"], line_of(data, "exit", line))
        goal = None
        if data.get("goal") is not None:
            goal = self.condition(data["goal"], line_of(data, "goal", line), "goal")

        tracks: tuple[Track, ...] = ()
        if self.required(data, "tracks", line, "the campaign"):
            tracks = self.tracks(data["tracks"], line_of(data, "tracks", line))

        for written_id, steps, raw_ids, target_lines, built, clean in self.pending_tracks:
            before = len(self.problems)
            self.check_targets(written_id, steps, raw_ids, target_lines)
            if built is not None and clean and len(self.problems) == before:
                self.check_flow(built)
        if tracks:
            self.check_references()
        if audience is not None:
            self.check_audience(audience, line_of(data.get("entry"), "audience", line))
        self.check_shadowed_tracks()

        if self.problems or key is None or name is None:
            return None
        return Campaign(
            id=key,
            name=name,
            tracks=tracks,
            description=description,
            triggers=triggers,
            audience=audience,
            manual=manual,
            exit_rules=exit_rules,
            goal=goal,
            re_entry=re_entry,
            send_window=window,
            frequency_cap=cap,
            utm=utm,
            topic=topic,
            source_path=source_path,
            checksum=checksum,
        )

    # -------------------------------------------------------- entry

    def entry(
        self, value: Any, line: int
    ) -> tuple[tuple[Trigger, ...], Condition | None, bool] | None:
        entry = self.mapping(value, line, "entry")
        if entry is None:
            return None
        self.fields(entry, ENTRY_FIELDS, line)
        triggers: list[Trigger] = []
        raw = entry.get("triggers")
        if raw is not None:
            raw_line = line_of(entry, "triggers", line)
            items = raw if isinstance(raw, list) else [raw]
            for index, item in enumerate(items):
                trigger = self.trigger(item, line_of(raw, index, raw_line))
                if trigger is not None:
                    triggers.append(trigger)
        audience = None
        if entry.get("audience") is not None:
            audience = self.condition(
                entry["audience"], line_of(entry, "audience", line), "audience"
            )
        manual = True
        if "manual" in entry:
            manual = bool(self.boolean(entry["manual"], line_of(entry, "manual", line), "manual"))
        return tuple(triggers), audience, manual

    def trigger(self, value: Any, line: int) -> Trigger | None:
        if isinstance(value, str):
            if value == "lead_created":
                return Trigger("lead_created", line=line)
            if value in TRIGGER_FORMS:
                example = {
                    "event": "- event: webinar_attended",
                    "stage_changed": "- stage_changed: [recycled]",
                    "attribute_changed": "- attribute_changed: title",
                }[value]
                self.error(line, f"trigger {value!r} needs a value, e.g. `{example}`")
                return None
            self.error(
                line,
                f"unknown trigger {value!r}{self.did_you_mean(value, TRIGGER_FORMS)}: "
                f"use {human_list(TRIGGER_FORMS)}",
            )
            return None
        trigger = self.mapping(value, line, "a trigger")
        if trigger is None:
            return None
        line = own_line(trigger, line)
        if len(trigger) != 1:
            self.error(
                line,
                "a trigger is one of: lead_created, event: TYPE, stage_changed: [STAGES], "
                "attribute_changed: NAME",
            )
            return None
        ((kind, argument),) = trigger.items()
        if kind not in TRIGGER_FORMS:
            self.error(
                line,
                f"unknown trigger {kind!r}{self.did_you_mean(kind, TRIGGER_FORMS)}: "
                f"use {human_list(TRIGGER_FORMS)}",
            )
            return None
        if kind == "lead_created":
            if argument not in (None, True):
                self.error(line, "write the trigger as `- lead_created`")
                return None
            return Trigger("lead_created", line=line)
        if kind == "event":
            event_type = self.event_type(argument, line)
            return (
                None if event_type is None else Trigger("event", event_type=event_type, line=line)
            )
        if kind == "stage_changed":
            stages = self.names(argument, line, "stage_changed", LIFECYCLE_STAGES, "stage")
            return None if stages is None else Trigger("stage_changed", stages=stages, line=line)
        name = self.attribute_name(argument, line)
        return None if name is None else Trigger("attribute_changed", attribute=name, line=line)

    def event_type(self, value: Any, line: int) -> str | None:
        event_type = self.text(value, line, "event type", max_length=MAX_EVENT_TYPE)
        if event_type is not None and not _EVENT_RE.match(event_type):
            self.error(
                line,
                f"event type {event_type!r} may only use letters, digits, '_', '.', ':' and '-'",
            )
            return None
        return event_type

    # -------------------------------------------------------- campaign-wide settings

    def re_entry(self, value: Any, line: int) -> ReEntry | None:
        if isinstance(value, str):
            value = {"policy": value}
        spec = self.mapping(value, line, "re_entry")
        if spec is None:
            return None
        self.fields(spec, RE_ENTRY_FIELDS, line)
        if not self.required(spec, "policy", line, "re_entry"):
            return None
        policy = spec["policy"]
        policy_line = line_of(spec, "policy", line)
        if policy not in RE_ENTRY_POLICIES:
            self.error(
                policy_line,
                f"unknown re-entry policy {policy!r}{self.did_you_mean(policy, RE_ENTRY_POLICIES)}:"
                f" use {human_list(RE_ENTRY_POLICIES)}",
            )
            return None
        cooldown = None
        if spec.get("cooldown") is not None:
            cooldown_line = line_of(spec, "cooldown", line)
            if policy != "after_finish":
                self.error(cooldown_line, "cooldown only applies to policy after_finish")
                return None
            cooldown = self.duration(spec["cooldown"], cooldown_line, "cooldown")
            if cooldown is None:
                return None
        return ReEntry(policy, cooldown)

    def send_window(self, value: Any, line: int) -> SendWindow | None:
        spec = self.mapping(value, line, "send_window")
        if spec is None:
            return None
        self.fields(spec, WINDOW_FIELDS, line)
        days = start = end = None
        if self.required(spec, "days", line, "send_window"):
            days = self.weekdays(spec["days"], line_of(spec, "days", line), "days")
        if self.required(spec, "hours", line, "send_window"):
            hours_line = line_of(spec, "hours", line)
            hours = spec["hours"]
            if not isinstance(hours, str) or hours.count("-") != 1:
                self.error(hours_line, f"bad hours {hours!r}: use HH:MM-HH:MM, e.g. 09:00-17:00")
            else:
                first, last = hours.split("-")
                start = self.clock(first, hours_line, "hours")
                end = self.clock(last, hours_line, "hours")
                if start is not None and end is not None and start >= end:
                    self.error(hours_line, f"hours {hours!r}: the window must end after it starts")
                    start = None
        timezone = None
        if spec.get("timezone") is not None:
            zone_line = line_of(spec, "timezone", line)
            name = self.text(spec["timezone"], zone_line, "timezone")
            if name is not None and name != "lead":
                try:
                    ZoneInfo(name)
                    timezone = name
                except (ZoneInfoNotFoundError, ValueError):
                    self.error(
                        zone_line,
                        f"unknown time zone {name!r}: use lead (each lead's own) or an IANA "
                        "name such as Europe/Berlin",
                    )
                    return None
        if days is None or start is None or end is None:
            return None
        return SendWindow(days, start, end, timezone)

    def frequency_cap(self, value: Any, line: int) -> FrequencyCap | None:
        spec = self.mapping(value, line, "frequency_cap")
        if spec is None:
            return None
        self.fields(spec, CAP_FIELDS, line)
        count = per = None
        if self.required(spec, "max", line, "frequency_cap"):
            raw = spec["max"]
            if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
                count = raw
            else:
                self.error(
                    line_of(spec, "max", line), f"max must be a whole number above 0, not {raw!r}"
                )
        if self.required(spec, "per", line, "frequency_cap"):
            per = self.duration(spec["per"], line_of(spec, "per", line), "per")
        if count is None or per is None:
            return None
        return FrequencyCap(count, per)

    def utm(self, value: Any, line: int) -> dict[str, str]:
        spec = self.mapping(value, line, "utm")
        if spec is None:
            return {}
        self.fields(spec, UTM_FIELDS, line)
        utm: dict[str, str] = {}
        for key in UTM_FIELDS:
            if spec.get(key) is None:
                continue
            raw = spec[key]
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                self.error(
                    line_of(spec, key, line), f"utm {key} must be text, not {kind_name(raw)}"
                )
                continue
            utm[key] = str(raw)
        return utm

    def exit_rules(self, value: Any, line: int) -> tuple[tuple[str, Condition], ...]:
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

    # -------------------------------------------------------- tracks and steps

    def tracks(self, value: Any, line: int) -> tuple[Track, ...]:
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
        track_id = self.identifier(raw_id, line, "track name", _STEP_ID_RE, _ID_RULE)
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
                _STEP_ID_RE,
                _ID_RULE,
            )
        kind_line = line_of(spec, kind, line)
        argument = spec[kind]
        if kind == "send":
            template = self.text(argument, kind_line, "send (a template name)", max_length=MAX_KEY)
            if template is not None and not _TEMPLATE_RE.match(template):
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
                    spec[key], line_of(spec, key, line), f"{key} target", _STEP_ID_RE, _ID_RULE
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
        reason, goal = "completed", False
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

    def check_audience(self, audience: Condition, line: int) -> None:
        if _mentions_emails(audience):
            self.error(
                line,
                "audience cannot use opened or clicked: those refer to this campaign's "
                "emails, which a lead has not had before enrolling",
            )

    def check_shadowed_tracks(self) -> None:
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


def _is_plain_value(value: Any) -> bool:
    # Only values JSON can store exactly: a version's spec is kept as JSON and re-parsed.
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def _covers(earlier: frozenset[str] | None, later: frozenset[str] | None) -> bool:
    if earlier is None:
        return True
    return later is not None and later <= earlier


def _mentions_emails(condition: Condition) -> bool:
    match condition:
        case Opened() | Clicked():
            return True
        case AllOf(items=items) | AnyOf(items=items):
            return any(_mentions_emails(item) for item in items)
        case Not(item=item):
            return _mentions_emails(item)
    return False


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


# ---------------------------------------------------------------- describing conditions


def describe(condition: Condition) -> str:
    """A short English reading of a condition (the default name of an exit rule)."""
    text = _describe(condition)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _ordered(names: frozenset[str], order: Sequence[str]) -> str:
    return human_list([name for name in order if name in names])


def _describe(condition: Condition) -> str:
    match condition:
        case Opened(step=step):
            return f"opened {step}"
        case Clicked(step=step, url=url):
            return f"clicked {url} in {step}" if url else f"clicked {step}"
        case StageIn(stages=stages):
            return f"stage is {_ordered(stages, LIFECYCLE_STAGES)}"
        case TemperatureIn(temperatures=temperatures):
            return f"temperature is {_ordered(temperatures, TEMPERATURES)}"
        case ScoreCompare(op=op, value=value):
            return f"score {op} {value:g}"
        case AttributeCompare(name=name, op=op, value=value):
            if op == "exists":
                return f"{name} {'is set' if value else 'is not set'}"
            if isinstance(value, tuple):
                return f"{name} {op.replace('_', ' ')} {', '.join(map(str, value))}"
            return f"{name} {op} {value}"
        case EventSeen(type=event_type, within=within):
            return f"{event_type} within {_describe_duration(within)}" if within else event_type
        case Unsubscribed():
            return "unsubscribed"
        case AllOf(items=items):
            return " and ".join(_describe(item) for item in items)
        case AnyOf(items=items):
            return " or ".join(_describe(item) for item in items)
        case Not(item=Unsubscribed()):
            return "subscribed"
        case Not(item=item):
            return f"not ({_describe(item)})"
    return repr(condition)


def _describe_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

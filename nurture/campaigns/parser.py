"""The meaning of a campaign file: YAML data in, schema objects and problems out.

:class:`CampaignParser` walks the data (line-annotated by ``nurture.files.yaml_lines``, or
plain JSON from a stored version) field by field, builds :mod:`nurture.campaigns.spec` values
and collects every problem with its line instead of stopping at the first. It reads the
campaign's own fields (id, entry, re-entry, send window, frequency cap, UTM tags) here; the
tracks and steps (``nurture.campaigns.tracks``) and the conditions
(``nurture.campaigns.conditions``) are the grammar it builds on. After all tracks are read it
checks what needs the whole campaign: branch targets, unreachable steps, loops without a
wait, ``opened``/``clicked`` references, and tracks hidden behind earlier ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.campaigns.spec import (
    RE_ENTRY_POLICIES,
    Campaign,
    Condition,
    FrequencyCap,
    ReEntry,
    SendWindow,
    Track,
    Trigger,
)
from nurture.campaigns.tracks import TrackParser
from nurture.campaigns.vocabulary import (
    CAP_FIELDS,
    ENTRY_FIELDS,
    LOCALE_RE,
    RE_ENTRY_FIELDS,
    TOP_FIELDS,
    TOPIC_FIELDS,
    TRIGGER_FORMS,
    UTM_FIELDS,
    WINDOW_FIELDS,
)
from nurture.files.parser import KEY_RE, human_list
from nurture.files.problems import ProblemsError, kind_name
from nurture.files.yaml_lines import line_of, own_line
from nurture.leads.stages import LIFECYCLE_STAGES

# A topic's label is a checkbox's text on the preference page.
MAX_TOPIC_LABEL = 80


class CampaignError(ProblemsError):
    """Raised by :func:`parse_campaign_data` when the data is not a valid campaign."""


class CampaignParser(TrackParser):
    """Turns plain or line-annotated campaign data into schema objects, collecting problems."""

    # -------------------------------------------------------- the campaign

    def campaign(
        self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str
    ) -> Campaign | None:
        """The whole campaign, or ``None`` when any problem was found."""
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
        name, description = self.name_and_description(data, line, "the campaign")

        topic: str | None = None
        topic_labels: dict[str, str] = {}
        if data.get("topic") is not None:
            topic, topic_labels = self.topic(data["topic"], line_of(data, "topic", line))

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
            topic_labels=topic_labels,
            source_path=source_path,
            checksum=checksum,
        )

    # -------------------------------------------------------- entry

    def entry(
        self, value: Any, line: int
    ) -> tuple[tuple[Trigger, ...], Condition | None, bool] | None:
        """``entry``: the triggers, the audience and whether manual enrolment is allowed."""
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
        """One trigger: ``lead_created``, ``event: TYPE``, ``stage_changed: [STAGES]`` or
        ``attribute_changed: NAME``."""
        if isinstance(value, str):
            if value == "lead_created":
                return Trigger("lead_created", line=line)
            if value in TRIGGER_FORMS:
                example = {
                    "event": "- event: webinar.attended",
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

    # -------------------------------------------------------- campaign-wide settings

    def re_entry(self, value: Any, line: int) -> ReEntry | None:
        """``re_entry``: a policy name, or a policy with a cooldown."""
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
        """``send_window``: the days, hours and time zone emails may go out in."""
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
        """``frequency_cap``: at most ``max`` emails ``per`` duration."""
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

    def topic(self, value: Any, line: int) -> tuple[str | None, dict[str, str]]:
        """``topic``: a key (``product-news``), or ``{key: …, label: …}`` where the label is
        text, or text per language (``{pl: Porady KSeF, en: KSeF tips}``) for the
        preference centre."""
        rule = "lower-case letters, digits and dashes (e.g. product-news)"
        if not isinstance(value, Mapping):
            return self.identifier(value, line, "topic", KEY_RE, rule), {}
        self.fields(value, TOPIC_FIELDS, line)
        key = None
        if self.required(value, "key", line, "the topic"):
            key = self.identifier(value["key"], line_of(value, "key", line), "topic", KEY_RE, rule)
        labels: dict[str, str] = {}
        raw = value.get("label")
        where = line_of(value, "label", line)
        if raw is None:
            return key, labels
        if not isinstance(raw, Mapping):
            text = self.text(raw, where, "topic label", max_length=MAX_TOPIC_LABEL)
            return key, {"": text} if text else {}
        if not raw:
            self.error(where, "topic label must name at least one language, e.g. {en: News}")
        for locale, text in raw.items():
            at = line_of(raw, locale, where)
            if not isinstance(locale, str) or not LOCALE_RE.match(locale):
                self.error(
                    at,
                    f"topic label language {locale!r} must be a language code "
                    "such as en, pl or pt-BR",
                )
                continue
            checked = self.text(text, at, f"topic label ({locale})", max_length=MAX_TOPIC_LABEL)
            if checked:
                labels[locale.replace("_", "-")] = checked.strip()
        return key, labels

    def utm(self, value: Any, line: int) -> dict[str, str]:
        """``utm``: the UTM tags added to the campaign's links."""
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

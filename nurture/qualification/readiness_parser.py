"""Reading the readiness file: YAML text in, a :class:`Readiness` out, and every problem found
on the way with its file and line.

A readiness file lists rules, each a set of conditions (grade, temperature, score, a raised
hand, an engaged account) that make a lead ready for sales when all hold
(``nurture.qualification.readiness`` evaluates them), and the recycle cooldown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from nurture.campaigns.spec import TEMPERATURES
from nurture.files.problems import Problem
from nurture.files.yaml_file import FileLoad, load_yaml_text, read_file
from nurture.files.yaml_lines import LineDict, line_of, own_line
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue
from nurture.qualification.parser import QualificationFileError, QualificationParser
from nurture.qualification.readiness import (
    AccountCondition,
    HandRaise,
    Readiness,
    ReadinessRule,
)

READINESS_FIELDS = ("name", "description", "recycle_cooldown", "hand_raisers_outside_icp", "rules")
OUTSIDE_ICP_CHOICES = ("review", "sales")
RULE_FIELDS = (
    "id",
    "description",
    "min_grade",
    "temperature",
    "min_score",
    "hand_raised",
    "account",
)
HAND_RAISED_FIELDS = ("within", "events")
ACCOUNT_FIELDS = ("engaged_contacts", "engaged", "min_score", "min_grade")
_EVENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def load_readiness_text(
    text: str, path: str | Path = "<readiness>", *, catalogue: EventCatalogue = ANY_CUSTOM
) -> FileLoad[Readiness]:
    """Parse readiness YAML ``text``; ``catalogue``: the event types it may name."""
    name = str(path)

    def build(data: LineDict, digest: str) -> tuple[Readiness | None, list[Problem]]:
        parser = ReadinessParser(name, catalogue=catalogue)
        return parser.readiness(data, source_path=name, checksum=digest), parser.problems

    return load_yaml_text(text, name, "a readiness file must be a mapping", build, FileLoad)


def load_readiness_file(
    path: str | Path, *, catalogue: EventCatalogue = ANY_CUSTOM
) -> FileLoad[Readiness]:
    """Read and parse one readiness file."""
    return read_file(
        path, lambda text, name: load_readiness_text(text, name, catalogue=catalogue), FileLoad
    )


def parse_readiness_data(
    data: Mapping[str, Any], source_path: str | None, *, checksum: str
) -> Readiness:
    """A readiness definition from a stored version's plain data."""
    parser = ReadinessParser(source_path or "<readiness>")
    readiness = parser.readiness(data, source_path=source_path, checksum=checksum)
    if parser.problems or readiness is None:
        raise QualificationFileError(parser.problems)
    return readiness


class ReadinessParser(QualificationParser):
    """Reads a readiness file: its recycle cooldown and rules."""

    def readiness(
        self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str
    ) -> Readiness | None:
        """The whole readiness definition, or ``None`` when any problem was found."""
        line = own_line(data, 0)
        self.fields(data, READINESS_FIELDS, line)
        name, description = self.name_and_description(
            data, line, "the readiness file", description_length=500
        )
        cooldown: timedelta | None = timedelta(days=30)
        if data.get("recycle_cooldown") is not None:
            cooldown = self.duration(
                data["recycle_cooldown"],
                line_of(data, "recycle_cooldown", line),
                "recycle_cooldown",
            )
        outside_icp = self.outside_icp(data, line)
        rules: list[ReadinessRule] = []
        if self.required(data, "rules", line, "the readiness file"):
            rules_line = line_of(data, "rules", line)
            for index, item in enumerate(self.items(data["rules"], rules_line, "rules")):
                rule = self.rule(item, line_of(data["rules"], index, rules_line))
                if rule is not None:
                    rules.append(rule)
        self.unique(rules, "rule")
        if name is None or cooldown is None or self.problems:
            return None
        return Readiness(
            name, tuple(rules), cooldown, description, checksum, source_path, outside_icp
        )

    def outside_icp(self, data: Mapping[Any, Any], line: int) -> str:
        """``hand_raisers_outside_icp``: ``review`` (the default) or ``sales``."""
        value = data.get("hand_raisers_outside_icp")
        if value is None:
            return "review"
        if value not in OUTSIDE_ICP_CHOICES:
            self.error(
                line_of(data, "hand_raisers_outside_icp", line),
                f"hand_raisers_outside_icp must be {' or '.join(OUTSIDE_ICP_CHOICES)}, "
                f"not {value!r}",
            )
            return "review"
        return str(value)

    def rule(self, value: Any, line: int) -> ReadinessRule | None:
        """One readiness rule: at least one condition, all of which must hold."""
        spec = self.mapping(value, line, "a rule")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, RULE_FIELDS, line)
        rule_id = self.key(spec, line, "rule")
        description = self.optional_text(spec, "description", line)
        min_grade = None
        if spec.get("min_grade") is not None:
            min_grade = self.grade_name(
                spec["min_grade"], line_of(spec, "min_grade", line), "min_grade"
            )
        temperatures = None
        if spec.get("temperature") is not None:
            temperatures = self.names(
                spec["temperature"],
                line_of(spec, "temperature", line),
                "temperature",
                TEMPERATURES,
                "temperature",
            )
        min_score = None
        if spec.get("min_score") is not None:
            min_score = self.number(
                spec["min_score"], line_of(spec, "min_score", line), "min_score"
            )
        hand_raised = None
        if spec.get("hand_raised") is not None:
            hand_raised = self.hand_raised(spec["hand_raised"], line_of(spec, "hand_raised", line))
        account = None
        if spec.get("account") is not None:
            account = self.account(spec["account"], line_of(spec, "account", line))
        conditions = ("min_grade", "temperature", "min_score", "hand_raised", "account")
        if not any(spec.get(key) is not None for key in conditions):
            self.error(
                line, f"rule {rule_id or '?'} needs at least one condition: {', '.join(conditions)}"
            )
        if spec.get("hand_raised") is False:
            self.error(
                line_of(spec, "hand_raised", line),
                "hand_raised: false is not a condition; remove it",
            )
        if len(self.problems) > before or rule_id is None:
            return None
        return ReadinessRule(
            rule_id, description, min_grade, temperatures, min_score, hand_raised, account, line
        )

    def hand_raised(self, value: Any, line: int) -> HandRaise | None:
        """``hand_raised: true`` or ``{within, events}``; ``false`` reads as no condition."""
        if value is True:
            return HandRaise()
        if value is False:
            return None
        spec = self.mapping(value, line, "hand_raised (true, or within/events)")
        if spec is None:
            return None
        self.fields(spec, HAND_RAISED_FIELDS, line)
        within = None
        if spec.get("within") is not None:
            within = self.duration(
                spec["within"], line_of(spec, "within", line), "hand_raised.within"
            )
        events: set[str] = set()
        if spec.get("events") is not None:
            events_line = line_of(spec, "events", line)
            raw = spec["events"] if isinstance(spec["events"], list) else [spec["events"]]
            for index, item in enumerate(raw):
                item_line = line_of(spec["events"], index, events_line)
                if not isinstance(item, str) or not _EVENT_RE.match(item):
                    self.error(item_line, f"hand_raised.events: {item!r} is not an event type")
                elif self.known_event_type(item, item_line):
                    events.add(item)
        return HandRaise(within, frozenset(events))

    def account(self, value: Any, line: int) -> AccountCondition | None:
        """``account``: how many engaged contacts, and how good, the lead's account needs."""
        spec = self.mapping(value, line, "account")
        if spec is None:
            return None
        self.fields(spec, ACCOUNT_FIELDS, line)
        if not self.required(spec, "engaged_contacts", line, "account"):
            return None
        count_line = line_of(spec, "engaged_contacts", line)
        count = spec["engaged_contacts"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            self.error(count_line, f"engaged_contacts must be a whole number ≥ 1, not {count!r}")
            return None
        engaged = frozenset({"warm", "hot"})
        if spec.get("engaged") is not None:
            engaged = (
                self.names(
                    spec["engaged"],
                    line_of(spec, "engaged", line),
                    "account.engaged",
                    TEMPERATURES,
                    "temperature",
                )
                or engaged
            )
        min_score = None
        if spec.get("min_score") is not None:
            min_score = self.number(
                spec["min_score"], line_of(spec, "min_score", line), "account.min_score"
            )
        min_grade = None
        if spec.get("min_grade") is not None:
            min_grade = self.grade_name(
                spec["min_grade"], line_of(spec, "min_grade", line), "account.min_grade"
            )
        return AccountCondition(count, engaged, min_score, min_grade)

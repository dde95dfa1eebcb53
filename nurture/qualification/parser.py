"""Reading the ICP and readiness files: YAML text in, an :class:`ICP` or :class:`Readiness`
out, and every problem found on the way with its file and line.

Built like the scoring file reader (``nurture.scoring.parser``): ``nurture.files.yaml_lines``
keeps line numbers (and reads ``NO`` — Norway — as text), ``nurture.files.parser.Parser``
supplies the generic checks (unknown fields with "did you mean", text, numbers, durations),
the campaign grammar's ``FieldNameParser`` reads field names such as ``account.employees``
or ``attributes.budget``, and nothing stops at the first problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from nurture.campaigns.conditions import FieldNameParser
from nurture.campaigns.spec import TEMPERATURES
from nurture.files.parser import KEY_RE, MAX_NAME
from nurture.files.problems import Problem, ProblemsError, kind_name
from nurture.files.yaml_file import FileLoad, load_yaml_text, read_file
from nurture.files.yaml_lines import LineDict, line_of, own_line
from nurture.qualification.comparison import NUMERIC_OPS, OPS, Comparison
from nurture.qualification.icp import GRADES, ICP, Band, Criterion, Gate, GradeThresholds
from nurture.qualification.readiness import (
    AccountCondition,
    HandRaise,
    Readiness,
    ReadinessRule,
)

ICP_FIELDS = ("name", "description", "grades", "gates", "criteria")
GATE_FIELDS = ("id", "field", "description", "caps_at", "if_missing", *OPS)
CRITERION_FIELDS = ("id", "field", "label", "bands")
BAND_FIELDS = ("points", "label", *OPS)
GRADE_FIELDS = ("A", "B", "C")
READINESS_FIELDS = ("name", "description", "recycle_cooldown", "rules")
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
MAX_ITEMS = 200
FIT_TOTAL = 100
_EVENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
# Words people reach for that mean one of the field names above (see Parser.synonyms).
SYNONYMS = {"field": "name", "title": "name", "temperatures": "temperature", "temp": "temperature"}

T = TypeVar("T")


class QualificationFileError(ProblemsError):
    """Raised when stored ICP/readiness data is not valid (never for a file: see loads)."""


def _load_text(
    text: str, name: str, what: str, build: Callable[[QualificationParser, LineDict, str], T]
) -> FileLoad[T]:
    """Parse ICP or readiness YAML with ``build(parser, data, checksum)``; ``what`` names
    the kind of file in the problem when the top is not a mapping."""

    def run(data: LineDict, digest: str) -> tuple[T | None, list[Problem]]:
        parser = QualificationParser(name)
        return build(parser, data, digest), parser.problems

    return load_yaml_text(text, name, f"{what} must be a mapping", run, FileLoad)


# ---------------------------------------------------------------- public entry points


def load_icp_text(text: str, path: str | Path = "<icp>") -> FileLoad[ICP]:
    """Parse ICP YAML ``text`` (``path`` names it in problems)."""
    return _load_text(
        text,
        str(path),
        "an ICP file",
        lambda parser, data, digest: parser.icp(data, source_path=str(path), checksum=digest),
    )


def load_icp_file(path: str | Path) -> FileLoad[ICP]:
    """Read and parse one ICP file; an unreadable file is reported as a problem."""
    return read_file(path, load_icp_text, FileLoad)


def load_readiness_text(text: str, path: str | Path = "<readiness>") -> FileLoad[Readiness]:
    """Parse readiness YAML ``text``."""
    return _load_text(
        text,
        str(path),
        "a readiness file",
        lambda parser, data, digest: parser.readiness(data, source_path=str(path), checksum=digest),
    )


def load_readiness_file(path: str | Path) -> FileLoad[Readiness]:
    """Read and parse one readiness file."""
    return read_file(path, load_readiness_text, FileLoad)


def parse_icp_data(data: Mapping[str, Any], source_path: str | None, *, checksum: str) -> ICP:
    """An ICP from a stored version's plain data. Raises QualificationFileError."""
    parser = QualificationParser(source_path or "<icp>")
    icp = parser.icp(data, source_path=source_path, checksum=checksum)
    if parser.problems or icp is None:
        raise QualificationFileError(parser.problems)
    return icp


def parse_readiness_data(
    data: Mapping[str, Any], source_path: str | None, *, checksum: str
) -> Readiness:
    """A readiness definition from a stored version's plain data."""
    parser = QualificationParser(source_path or "<readiness>")
    readiness = parser.readiness(data, source_path=source_path, checksum=checksum)
    if parser.problems or readiness is None:
        raise QualificationFileError(parser.problems)
    return readiness


# ---------------------------------------------------------------- the parser


class QualificationParser(FieldNameParser):
    """The generic field checks, applied to ICP and readiness files.

    Field names (``field: account.employees``) are read as campaign conditions read them.
    """

    synonyms = SYNONYMS

    # ------------------------------------------------------------ shared

    def optional_text(self, spec: Mapping[Any, Any], key: str, line: int) -> str:
        if spec.get(key) is None:
            return ""
        return self.text(spec[key], line_of(spec, key, line), key, max_length=500) or ""

    def key(self, spec: Mapping[Any, Any], line: int, what: str) -> str | None:
        if not self.required(spec, "id", line, what):
            return None
        return self.identifier(
            spec["id"],
            line_of(spec, "id", line),
            f"{what} id",
            KEY_RE,
            "lower-case letters, digits and dashes (e.g. company-size)",
        )

    def items(self, value: Any, line: int, what: str, *, required: bool = True) -> list[Any]:
        if not isinstance(value, list) or (required and not value):
            shown = "an empty list" if isinstance(value, list) else kind_name(value)
            self.error(own_line(value, line), f"{what} must be a list, not {shown}")
            return []
        if len(value) > MAX_ITEMS:
            self.error(line, f"at most {MAX_ITEMS} {what}, got {len(value)}")
            return []
        return value

    def grade_name(self, value: Any, line: int, what: str) -> str | None:
        if isinstance(value, str) and value.strip().upper() in GRADES:
            return value.strip().upper()
        self.error(line, f"{what} must be a grade A, B, C or D, not {value!r}")
        return None

    def comparison(self, spec: Mapping[Any, Any], line: int, what: str) -> Comparison | None:
        """Exactly one comparison key (gte: 50, in: [DE, AT], words: [vp, head], …)."""
        ops = [key for key in spec if key in OPS]
        if len(ops) != 1:
            found = f"found {', '.join(ops)}" if ops else "found none"
            self.error(
                line,
                f"{what} needs exactly one comparison ({found}): one of {', '.join(OPS)}, "
                "e.g. `gte: 50` or `in: [DE, AT]`",
            )
            return None
        op = ops[0]
        value = spec[op]
        op_line = line_of(spec, op, line)
        if op in NUMERIC_OPS and op != "between":
            number = self.number(value, op_line, op)
            return None if number is None else Comparison(op, number)
        if op == "between":
            if (
                not isinstance(value, list)
                or len(value) != 2
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
            ):
                self.error(op_line, f"between needs [LOW, HIGH] numbers, not {value!r}")
                return None
            if value[0] > value[1]:
                self.error(op_line, f"between: {value[0]} is above {value[1]}")
                return None
            return Comparison(op, (value[0], value[1]))
        if op == "exists":
            flag = self.boolean(value, op_line, "exists")
            return None if flag is None else Comparison(op, flag)
        if op in ("in", "not_in", "matches", "words"):
            values = value if isinstance(value, list) else [value]
            if not values or not all(
                isinstance(v, str | int | float) and not isinstance(v, bool) and str(v).strip()
                for v in values
            ):
                self.error(op_line, f"{op} needs a value or a list of values (text or numbers)")
                return None
            return Comparison(op, tuple(values))
        # eq, ne, contains: one plain value.
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(op_line, f"{op} compares with one value (text or a number), not {value!r}")
            return None
        return Comparison(op, value)

    def field_name(self, spec: Mapping[Any, Any], line: int, what: str) -> str | None:
        if not self.required(spec, "field", line, what):
            return None
        return self.attribute_name(spec["field"], line_of(spec, "field", line))

    # ------------------------------------------------------------ ICP

    def icp(self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str) -> ICP | None:
        line = own_line(data, 0)
        self.fields(data, ICP_FIELDS, line)
        name = None
        if self.required(data, "name", line, "the ICP file"):
            name = self.text(data["name"], line_of(data, "name", line), "name", max_length=MAX_NAME)
        description = self.optional_text(data, "description", line)
        grades = None
        if self.required(data, "grades", line, "the ICP file"):
            grades = self.grades(data["grades"], line_of(data, "grades", line))
        gates: list[Gate] = []
        if data.get("gates") is not None:
            gates_line = line_of(data, "gates", line)
            for index, item in enumerate(
                self.items(data["gates"], gates_line, "gates", required=False)
            ):
                gate = self.gate(item, line_of(data["gates"], index, gates_line))
                if gate is not None:
                    gates.append(gate)
        criteria: list[Criterion] = []
        if self.required(data, "criteria", line, "the ICP file"):
            criteria_line = line_of(data, "criteria", line)
            for index, item in enumerate(self.items(data["criteria"], criteria_line, "criteria")):
                criterion = self.criterion(item, line_of(data["criteria"], index, criteria_line))
                if criterion is not None:
                    criteria.append(criterion)
        self.unique(gates, "gate")
        self.unique(criteria, "criterion")
        if criteria and not self.problems:
            total = sum(c.max_points for c in criteria)
            if total != FIT_TOTAL:
                shares = ", ".join(f"{c.id} {c.max_points}" for c in criteria)
                self.error(
                    line_of(data, "criteria", line),
                    f"the best bands of the criteria add up to {total}, not {FIT_TOTAL} "
                    f"({shares}): the fit score is out of {FIT_TOTAL}, adjust the points",
                )
        if name is None or grades is None or self.problems:
            return None
        return ICP(
            name=name,
            grades=grades,
            gates=tuple(gates),
            criteria=tuple(criteria),
            description=description,
            checksum=checksum,
            source_path=source_path,
        )

    def unique(self, items: list[Any], what: str) -> None:
        seen: dict[str, int] = {}
        for item in items:
            if item.id in seen:
                self.error(
                    item.line, f"duplicate {what} id {item.id!r} (first on line {seen[item.id]})"
                )
            seen.setdefault(item.id, item.line)

    def grades(self, value: Any, line: int) -> GradeThresholds | None:
        spec = self.mapping(value, line, "grades")
        if spec is None:
            return None
        self.fields(spec, GRADE_FIELDS, line)
        found: dict[str, int] = {}
        for key in GRADE_FIELDS:
            if not self.required(spec, key, line, "grades (lowest fit score of A, B and C)"):
                continue
            key_line = line_of(spec, key, line)
            number = self.number(spec[key], key_line, f"grades.{key}")
            if number is None:
                continue
            if not 0 < number <= FIT_TOTAL:
                self.error(key_line, f"grades.{key} must be between 1 and {FIT_TOTAL}")
                continue
            found[key] = int(number)
        if len(found) < 3:
            return None
        if not found["A"] > found["B"] > found["C"]:
            self.error(
                line,
                f"grades must go down from A to C (A {found['A']}, B {found['B']}, C {found['C']})",
            )
            return None
        return GradeThresholds(found["A"], found["B"], found["C"])

    def gate(self, value: Any, line: int) -> Gate | None:
        spec = self.mapping(value, line, "a gate")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, GATE_FIELDS, line)
        gate_id = self.key(spec, line, "gate")
        field_name = self.field_name(spec, line, f"gate {gate_id or '?'}")
        comparison = self.comparison(spec, line, f"gate {gate_id or '?'}")
        caps_at = "D"
        if spec.get("caps_at") is not None:
            caps_at = (
                self.grade_name(spec["caps_at"], line_of(spec, "caps_at", line), "caps_at") or "D"
            )
            if caps_at == "A":
                self.error(line_of(spec, "caps_at", line), "caps_at: A caps nothing; use B, C or D")
        if_missing = "unknown"
        if spec.get("if_missing") is not None:
            if_missing = spec["if_missing"]
            if if_missing not in ("unknown", "fail"):
                self.error(
                    line_of(spec, "if_missing", line),
                    f"if_missing must be unknown or fail, not {if_missing!r}",
                )
        if comparison is not None and comparison.op == "exists" and if_missing == "fail":
            self.error(line, "if_missing does nothing with `exists:` (it tests presence itself)")
        description = self.optional_text(spec, "description", line)
        if (
            len(self.problems) > before
            or gate_id is None
            or field_name is None
            or comparison is None
        ):
            return None
        return Gate(gate_id, field_name, comparison, description, caps_at, if_missing, line)

    def criterion(self, value: Any, line: int) -> Criterion | None:
        spec = self.mapping(value, line, "a criterion")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, CRITERION_FIELDS, line)
        criterion_id = self.key(spec, line, "criterion")
        field_name = self.field_name(spec, line, f"criterion {criterion_id or '?'}")
        label = self.optional_text(spec, "label", line)
        bands: list[Band] = []
        if self.required(spec, "bands", line, f"criterion {criterion_id or '?'}"):
            bands_line = line_of(spec, "bands", line)
            for index, item in enumerate(self.items(spec["bands"], bands_line, "bands")):
                band = self.band(item, line_of(spec["bands"], index, bands_line))
                if band is not None:
                    bands.append(band)
            if bands and max(b.points for b in bands) <= 0:
                self.error(bands_line, "a criterion needs at least one band with positive points")
        if len(self.problems) > before or criterion_id is None or field_name is None:
            return None
        return Criterion(criterion_id, field_name, tuple(bands), label, line)

    def band(self, value: Any, line: int) -> Band | None:
        spec = self.mapping(value, line, "a band")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, BAND_FIELDS, line)
        comparison = self.comparison(spec, line, "a band")
        points = None
        if self.required(spec, "points", line, "the band"):
            points_line = line_of(spec, "points", line)
            raw = spec["points"]
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.error(
                    points_line, f"points must be a whole number, not {kind_name(raw)} {raw!r}"
                )
            elif not -FIT_TOTAL <= raw <= FIT_TOTAL:
                self.error(points_line, f"points must be between -{FIT_TOTAL} and {FIT_TOTAL}")
            else:
                points = raw
        label = self.optional_text(spec, "label", line)
        if len(self.problems) > before or comparison is None or points is None:
            return None
        return Band(comparison, points, label, line)

    # ------------------------------------------------------------ readiness

    def readiness(
        self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str
    ) -> Readiness | None:
        line = own_line(data, 0)
        self.fields(data, READINESS_FIELDS, line)
        name = None
        if self.required(data, "name", line, "the readiness file"):
            name = self.text(data["name"], line_of(data, "name", line), "name", max_length=MAX_NAME)
        description = self.optional_text(data, "description", line)
        cooldown: timedelta | None = timedelta(days=30)
        if data.get("recycle_cooldown") is not None:
            cooldown = self.duration(
                data["recycle_cooldown"],
                line_of(data, "recycle_cooldown", line),
                "recycle_cooldown",
            )
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
        return Readiness(name, tuple(rules), cooldown, description, checksum, source_path)

    def rule(self, value: Any, line: int) -> ReadinessRule | None:
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
                else:
                    events.add(item)
        return HandRaise(within, frozenset(events))

    def account(self, value: Any, line: int) -> AccountCondition | None:
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

"""What the ICP and readiness files share: the base of their parsers and their error.

Both files are read like the scoring file (``nurture.scoring.parser``):
``nurture.files.yaml_lines`` keeps line numbers (and reads ``NO`` — Norway — as text),
``nurture.files.parser.Parser`` supplies the generic checks (unknown fields with "did you
mean", text, numbers, durations), the campaign grammar's ``FieldNameParser`` reads field
names such as ``account.employees`` or ``attributes.budget``, and nothing stops at the first
problem. :class:`QualificationParser` adds what both files use: ids, lists, grades,
comparisons and field names. Each file has its own grammar and entry points:
``nurture.qualification.icp_parser`` and ``nurture.qualification.readiness_parser``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nurture.campaigns.conditions import FieldNameParser
from nurture.files.parser import KEY_RE
from nurture.files.problems import ProblemsError, kind_name
from nurture.files.yaml_lines import line_of, own_line
from nurture.qualification.comparison import NUMERIC_OPS, OPS, Comparison
from nurture.qualification.icp import GRADES

MAX_ITEMS = 200
# Words people reach for that mean one of the ICP or readiness field names (see
# Parser.synonyms).
SYNONYMS = {"field": "name", "title": "name", "temperatures": "temperature", "temp": "temperature"}


class QualificationFileError(ProblemsError):
    """Raised when stored ICP/readiness data is not valid (never for a file: see loads)."""


class QualificationParser(FieldNameParser):
    """The generic field checks, with what the ICP and readiness files both use.

    Field names (``field: account.employees``) are read as campaign conditions read them.
    """

    synonyms = SYNONYMS

    def optional_text(self, spec: Mapping[Any, Any], key: str, line: int) -> str:
        """The text at ``key`` (at most 500 characters), or empty when unset."""
        if spec.get(key) is None:
            return ""
        return self.text(spec[key], line_of(spec, key, line), key, max_length=500) or ""

    def key(self, spec: Mapping[Any, Any], line: int, what: str) -> str | None:
        """The ``id`` of a gate, criterion or rule: lower-case letters, digits and dashes."""
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
        """A list of at most MAX_ITEMS items (empty only when not ``required``); else nothing."""
        if not isinstance(value, list) or (required and not value):
            shown = "an empty list" if isinstance(value, list) else kind_name(value)
            self.error(own_line(value, line), f"{what} must be a list, not {shown}")
            return []
        if len(value) > MAX_ITEMS:
            self.error(line, f"at most {MAX_ITEMS} {what}, got {len(value)}")
            return []
        return value

    def grade_name(self, value: Any, line: int, what: str) -> str | None:
        """A grade, A to D, in any case."""
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
        """The ``field`` a gate or criterion tests, named as campaign conditions name it."""
        if not self.required(spec, "field", line, what):
            return None
        return self.attribute_name(spec["field"], line_of(spec, "field", line))

    def unique(self, items: list[Any], what: str) -> None:
        """Report items (gates, criteria, rules) that reuse an earlier item's id."""
        seen: dict[str, int] = {}
        for item in items:
            if item.id in seen:
                self.error(
                    item.line, f"duplicate {what} id {item.id!r} (first on line {seen[item.id]})"
                )
            seen.setdefault(item.id, item.line)

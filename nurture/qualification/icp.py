"""Fit grading against the ideal customer profile (ICP): pure values and rules.

An ICP has **gates** — yes/no tests on absolute values (at least 50 employees, a served
country) — and weighted **criteria** — a field and a list of bands, each worth points (the
first band that matches counts). The criteria's best bands add up to 100, so the fit score
is simply the sum of the points earned (kept within 0–100), and every point has a reason.
The score gives a grade A–D by the file's thresholds; a failed gate caps the grade (at D
unless the gate says otherwise) and the result says which gate did it.

A field without a value earns nothing and is listed as **missing**, with the criteria and
gates that needed it: a lead without fit data gets a low grade with an honest list of what
to ask, never an error. A gate whose field is missing neither passes nor fails (it is
"unknown") unless the gate says ``if_missing: fail``.

No session, no clock: ``grade(icp, facts)`` takes the lead's fields by name (as built by
``nurture.campaigns.facts.lead_fields``: ``title``, ``attributes.budget``, ``account.employees``…).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nurture.qualification.comparison import Comparison, field_value, is_missing, shown

GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Gate:
    """A yes/no test; failing it caps the grade at ``caps_at``."""

    id: str
    field: str
    comparison: Comparison
    description: str = ""
    caps_at: str = "D"
    # What a missing value means: "unknown" (neither passes nor fails) or "fail".
    if_missing: str = "unknown"
    line: int = 0


@dataclass(frozen=True)
class Band:
    """One answer of a criterion and what it is worth."""

    comparison: Comparison
    points: int
    label: str = ""
    line: int = 0


@dataclass(frozen=True)
class Criterion:
    """A field scored by the first of its bands that matches."""

    id: str
    field: str
    bands: tuple[Band, ...]
    label: str = ""
    line: int = 0

    @property
    def max_points(self) -> int:
        """The most this criterion can give (its best band)."""
        return max((band.points for band in self.bands), default=0)

    @property
    def name(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class GradeThresholds:
    """Lowest fit score of grades A, B and C; anything below C is D."""

    a: int
    b: int
    c: int

    def grade(self, score: float) -> str:
        if score >= self.a:
            return "A"
        if score >= self.b:
            return "B"
        if score >= self.c:
            return "C"
        return "D"


@dataclass(frozen=True)
class ICP:
    """An ideal customer profile, as parsed from the ICP file."""

    name: str
    grades: GradeThresholds
    gates: tuple[Gate, ...]
    criteria: tuple[Criterion, ...]
    description: str = ""
    checksum: str = ""
    source_path: str | None = None

    @property
    def fields(self) -> frozenset[str]:
        """Every field the profile looks at."""
        return frozenset(g.field for g in self.gates) | {c.field for c in self.criteria}


def grade_at_most(grade: str, cap: str) -> str:
    """The worse of two grades."""
    return GRADES[max(GRADES.index(grade), GRADES.index(cap))]


def meets_grade(grade: str | None, minimum: str) -> bool:
    """True when ``grade`` is ``minimum`` or better (None never is)."""
    return grade in GRADES and GRADES.index(grade) <= GRADES.index(minimum)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class GateResult:
    """How one gate went: passed True/False, or None when its field is missing."""

    gate: str
    field: str
    value: Any
    passed: bool | None
    expected: str
    caps_at: str
    description: str = ""

    @property
    def text(self) -> str:
        what = f"gate {self.gate!r}" + (f" ({self.description})" if self.description else "")
        if self.passed is None:
            return f"{what}: unknown, {self.field} is missing (needs {self.expected})"
        state = "passed" if self.passed else "FAILED"
        line = f"{what} {state}: {self.field} is {shown(self.value)}, needs {self.expected}"
        if not self.passed:
            line += f" → grade capped at {self.caps_at}"
        return line

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "gate",
            "gate": self.gate,
            "field": self.field,
            "value": _jsonable(self.value),
            "passed": self.passed,
            "expected": self.expected,
            "caps_at": self.caps_at,
            "text": self.text,
        }


@dataclass(frozen=True)
class CriterionResult:
    """The points one criterion gave, and why."""

    criterion: str
    name: str
    field: str
    value: Any
    points: int
    max_points: int
    band: str = ""
    matched: bool = False

    @property
    def missing(self) -> bool:
        return is_missing(self.value)

    @property
    def text(self) -> str:
        if self.missing:
            return (
                f"{self.points:+d} {self.name}: {self.field} is missing (up to {self.max_points})"
            )
        if not self.matched:
            return (
                f"{self.points:+d} {self.name}: {self.field} is {shown(self.value)}, "
                f"which no band of the profile rewards (up to {self.max_points})"
            )
        return (
            f"{self.points:+d} {self.name}: {self.field} is {shown(self.value)}"
            f" ({self.band}; of {self.max_points})"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "criterion",
            "criterion": self.criterion,
            "field": self.field,
            "value": _jsonable(self.value),
            "points": self.points,
            "max_points": self.max_points,
            "band": self.band,
            "text": self.text,
        }


@dataclass(frozen=True)
class MissingField:
    """A field the profile needs but the lead lacks, and which gates/criteria wanted it."""

    field: str
    used_by: tuple[str, ...]
    points_at_stake: int = 0

    @property
    def text(self) -> str:
        stake = f", up to {self.points_at_stake} points" if self.points_at_stake else ""
        return f"{self.field} (for {', '.join(self.used_by)}{stake})"

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "used_by": list(self.used_by),
            "points_at_stake": self.points_at_stake,
            "text": self.text,
        }


@dataclass(frozen=True)
class Fit:
    """A lead's fit: score 0–100, grade, the reason for every point, what is missing."""

    score: int
    grade: str
    grade_by_score: str
    gates: tuple[GateResult, ...]
    criteria: tuple[CriterionResult, ...]
    missing: tuple[MissingField, ...] = field(default_factory=tuple)

    @property
    def failed_gates(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if g.passed is False)

    @property
    def has_data(self) -> bool:
        """False when not one gate or criterion had a value to look at."""
        return any(not c.missing for c in self.criteria) or any(
            not is_missing(g.value) for g in self.gates
        )

    @property
    def summary(self) -> str:
        """One line for people: ``B (72)``, with the capping gate or the lack of data."""
        text = f"{self.grade} ({self.score})"
        failed = self.failed_gates
        if failed:
            text += f", capped by gate {', '.join(repr(g.gate) for g in failed)}"
        if not self.has_data:
            text += ", no fit data yet"
        return text

    def reasons(self) -> list[str]:
        """Every gate and criterion as a line of text, gates first."""
        return [g.text for g in self.gates] + [c.text for c in self.criteria]

    def reasons_json(self) -> list[dict[str, Any]]:
        return [g.as_json() for g in self.gates] + [c.as_json() for c in self.criteria]

    def missing_json(self) -> list[dict[str, Any]]:
        return [m.as_json() for m in self.missing]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


# ---------------------------------------------------------------- evaluation


def grade(icp: ICP, facts: Mapping[str, Any]) -> Fit:
    """Grade one lead. ``facts`` maps field names to values; absent names are missing."""
    gate_results: list[GateResult] = []
    for gate in icp.gates:
        value = field_value(facts, gate.field)
        passed = gate.comparison.test(value)
        if passed is None and gate.if_missing == "fail":
            passed = False
        gate_results.append(
            GateResult(
                gate.id,
                gate.field,
                value,
                passed,
                gate.comparison.describe(),
                gate.caps_at,
                gate.description,
            )
        )

    criterion_results: list[CriterionResult] = []
    for criterion in icp.criteria:
        value = field_value(facts, criterion.field)
        points, band_label, matched = 0, "", False
        if not is_missing(value):
            for band in criterion.bands:
                if band.comparison.test(value):
                    points = band.points
                    band_label = band.label or band.comparison.describe()
                    matched = True
                    break
        criterion_results.append(
            CriterionResult(
                criterion.id,
                criterion.name,
                criterion.field,
                value,
                points,
                criterion.max_points,
                band_label,
                matched,
            )
        )

    score = max(0, min(100, sum(r.points for r in criterion_results)))
    by_score = icp.grades.grade(score)
    final = by_score
    for result in gate_results:
        if result.passed is False:
            final = grade_at_most(final, result.caps_at)
    return Fit(
        score=score,
        grade=final,
        grade_by_score=by_score,
        gates=tuple(gate_results),
        criteria=tuple(criterion_results),
        missing=_missing(icp, gate_results, criterion_results),
    )


def _missing(
    icp: ICP, gates: list[GateResult], criteria: list[CriterionResult]
) -> tuple[MissingField, ...]:
    # In the order the profile names them, one entry per field.
    users: dict[str, list[str]] = {}
    stakes: dict[str, int] = {}
    for gate, gate_result in zip(icp.gates, gates, strict=True):
        if is_missing(gate_result.value):
            users.setdefault(gate.field, []).append(f"gate {gate.id}")
    for criterion, criterion_result in zip(icp.criteria, criteria, strict=True):
        if criterion_result.missing:
            users.setdefault(criterion.field, []).append(criterion.name)
            stakes[criterion.field] = stakes.get(criterion.field, 0) + criterion.max_points
    return tuple(
        MissingField(name, tuple(used_by), stakes.get(name, 0)) for name, used_by in users.items()
    )

"""Reading the ICP file: YAML text in, an :class:`ICP` out, and every problem found on the way
with its file and line.

An ICP file names its grade thresholds, its gates (yes/no tests that cap the grade) and its
weighted criteria, whose best bands must add up to a fit score of 100
(``nurture.qualification.icp`` grades leads with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nurture.files.problems import Problem, kind_name
from nurture.files.yaml_file import FileLoad, load_yaml_text, read_file
from nurture.files.yaml_lines import LineDict, line_of, own_line
from nurture.qualification.comparison import OPS
from nurture.qualification.icp import ICP, Band, Criterion, Gate, GradeThresholds
from nurture.qualification.parser import QualificationFileError, QualificationParser

ICP_FIELDS = ("name", "description", "grades", "gates", "criteria")
GATE_FIELDS = ("id", "field", "description", "caps_at", "if_missing", *OPS)
CRITERION_FIELDS = ("id", "field", "label", "bands")
BAND_FIELDS = ("points", "label", *OPS)
GRADE_FIELDS = ("A", "B", "C")
FIT_TOTAL = 100


def load_icp_text(text: str, path: str | Path = "<icp>") -> FileLoad[ICP]:
    """Parse ICP YAML ``text`` (``path`` names it in problems)."""
    name = str(path)

    def build(data: LineDict, digest: str) -> tuple[ICP | None, list[Problem]]:
        parser = ICPParser(name)
        return parser.icp(data, source_path=name, checksum=digest), parser.problems

    return load_yaml_text(text, name, "an ICP file must be a mapping", build, FileLoad)


def load_icp_file(path: str | Path) -> FileLoad[ICP]:
    """Read and parse one ICP file; an unreadable file is reported as a problem."""
    return read_file(path, load_icp_text, FileLoad)


def parse_icp_data(data: Mapping[str, Any], source_path: str | None, *, checksum: str) -> ICP:
    """An ICP from a stored version's plain data. Raises QualificationFileError."""
    parser = ICPParser(source_path or "<icp>")
    icp = parser.icp(data, source_path=source_path, checksum=checksum)
    if parser.problems or icp is None:
        raise QualificationFileError(parser.problems)
    return icp


class ICPParser(QualificationParser):
    """Reads an ICP file: its grades, gates and criteria."""

    def icp(self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str) -> ICP | None:
        """The whole ICP, or ``None`` when any problem was found."""
        line = own_line(data, 0)
        self.fields(data, ICP_FIELDS, line)
        name, description = self.name_and_description(
            data, line, "the ICP file", description_length=500
        )
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

    def grades(self, value: Any, line: int) -> GradeThresholds | None:
        """``grades``: the lowest fit score of A, B and C, going down."""
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
        """One gate: a field, one comparison, and the grade it caps at when it fails."""
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
        """One criterion: a field and its bands of points."""
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
        """One band of a criterion: one comparison and the points it earns."""
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

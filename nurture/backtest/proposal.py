"""Fitted weights as a marketer's files: points rounded to whole numbers, written into a copy
of the scoring, ICP and readiness files' own text (pure: text in, text out).

Only the numbers change: each scoring rule's ``points`` (and its caps, scaled with the
points so a cap still stops the same number of events), each ICP band's ``points``, and the
readiness file's ``rules``, replaced by the one calibrated rule. Everything else — comments,
ids, conditions, descriptions, the order of the rules, flow or block style — is the
original text, because the numbers are replaced where the YAML parser found them. A header
comment says where the proposal came from.

How weights become points:

- scoring: the strongest rule gets as many points as the file's strongest rule has today,
  the others in proportion, so the score keeps its scale and the temperature bands still
  mean what they meant;
- ICP: the criteria's best bands add up to 100 (the file format's rule), in proportion to
  the weights; a criterion the fit gives no positive weight keeps 1 point on its best band;
- a rule or band the history never exercised (fewer than ``MIN_SUPPORT`` training leads)
  keeps its points: there is nothing to learn them from;
- points are never 0 (the format forbids it: the rule is kept at ±1 and the notes say so),
  and a hand-raiser's points stay positive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from nurture.qualification.icp import ICP
from nurture.scoring import ScoringModel

# The fewest training leads a rule or band must have touched for its weight to be used.
MIN_SUPPORT = 5
# The most ICP points a band may carry (the file format's bound).
_FIT_TOTAL = 100


@dataclass(frozen=True)
class ProposedRule:
    """The calibrated readiness rule: a score bar and a grade bar (None: not a condition)."""

    min_score: int | None
    min_grade: str | None
    description: str


@dataclass(frozen=True)
class Points:
    """Proposed points: per scoring rule id, and per (criterion id, band index)."""

    rules: Mapping[str, int]
    caps: Mapping[str, tuple[float | None, float | None]]
    bands: Mapping[tuple[str, int], int]
    notes: tuple[str, ...] = field(default=())


def _whole(value: float) -> int:
    """``value`` rounded half away from zero (2.5 → 3, −2.5 → −3)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def scoring_points(
    scoring: ScoringModel, weights: Mapping[str, float], support: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, tuple[float | None, float | None]], list[str]]:
    """Points (and scaled caps) per rule from ``weights`` (per decayed, capped count)."""
    notes: list[str] = []
    used = {rule.id: weights[rule.id] for rule in scoring.rules if support[rule.id] >= MIN_SUPPORT}
    strongest_now = max(abs(rule.points) for rule in scoring.rules)
    strongest_fit = max((abs(w) for w in used.values()), default=0.0)
    scale = strongest_now / strongest_fit if strongest_fit > 0 else 0.0
    points: dict[str, int] = {}
    caps: dict[str, tuple[float | None, float | None]] = {}
    for rule in scoring.rules:
        if rule.id not in used or scale == 0:
            points[rule.id] = _whole(rule.points)
            notes.append(
                f"rule {rule.id}: matched too few leads in the history to learn from; points kept"
            )
        else:
            value = _whole(used[rule.id] * scale)
            if rule.hand_raiser and value <= 0:
                notes.append(
                    f"rule {rule.id}: the history gives it no positive weight, but a "
                    "hand-raiser's points must be positive; kept at 1"
                )
                value = 1
            elif value == 0:
                value = 1 if used[rule.id] >= 0 else -1
                notes.append(
                    f"rule {rule.id}: carries almost no weight (kept at {value}; "
                    "consider removing it)"
                )
            if (value > 0) != (rule.points > 0):
                notes.append(
                    f"rule {rule.id}: the history turns its sign ({rule.points:g} → {value}); "
                    "check it before using the proposal"
                )
            points[rule.id] = value
        ratio = abs(points[rule.id]) / abs(rule.points)
        caps[rule.id] = (_scaled(rule.cap.per_day, ratio), _scaled(rule.cap.total, ratio))
    return points, caps, notes


def _scaled(cap: float | None, ratio: float) -> float | None:
    if cap is None:
        return None
    return max(round(cap * ratio, 1), 0.1)


def icp_points(
    icp: ICP, weights: Mapping[tuple[str, int], float], support: Mapping[tuple[str, int], int]
) -> tuple[dict[tuple[str, int], int], list[str]]:
    """Points per (criterion, band) from ``weights`` (per band, against no band matched),
    scaled so the criteria's best bands add up to 100."""
    notes: list[str] = []
    fitted = {
        (c.id, i): weights[(c.id, i)]
        for c in icp.criteria
        for i in range(len(c.bands))
        if support[(c.id, i)] >= MIN_SUPPORT
    }

    def raw(scale: float) -> dict[tuple[str, int], float]:
        return {
            (c.id, i): fitted[(c.id, i)] * scale if (c.id, i) in fitted else float(band.points)
            for c in icp.criteria
            for i, band in enumerate(c.bands)
        }

    def total(points: Mapping[tuple[str, int], float]) -> float:
        return sum(
            max(1.0, max(points[(c.id, i)] for i in range(len(c.bands)))) for c in icp.criteria
        )

    # The total of the best bands grows with the scale: find the scale that makes it 100.
    low, high = 0.0, 1.0
    while total(raw(high)) < _FIT_TOTAL and high < 1e9:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if total(raw(middle)) < _FIT_TOTAL else (low, middle)
    scaled = raw(high)
    points = {key: max(-_FIT_TOTAL, min(_FIT_TOTAL, _whole(v))) for key, v in scaled.items()}
    best: dict[str, tuple[str, int]] = {}
    for criterion in icp.criteria:
        keys = [(criterion.id, i) for i in range(len(criterion.bands))]
        top = max(keys, key=lambda key: (scaled[key], -key[1]))
        if points[top] <= 0:
            points[top] = 1
            notes.append(
                f"criterion {criterion.id}: the history gives it no positive weight; its best "
                "band kept at 1 point (consider removing the criterion)"
            )
        best[criterion.id] = max(keys, key=lambda key: (points[key], -key[1]))
    # Rounding leaves the best bands a few points off 100: the largest best bands absorb it.
    residual = _FIT_TOTAL - sum(points[key] for key in best.values())
    order = sorted(best.values(), key=lambda key: -points[key])
    step = 1 if residual > 0 else -1
    index = 0
    while residual and order:
        key = order[index % len(order)]
        if points[key] + step >= 1:
            points[key] += step
            residual -= step
        index += 1
    for criterion in icp.criteria:
        if not any((criterion.id, i) in fitted for i in range(len(criterion.bands))):
            notes.append(
                f"criterion {criterion.id}: no band matched enough leads in the history to "
                "learn from; its points kept in proportion"
            )
    return points, notes


# ---------------------------------------------------------------- text


def _header(lines: list[str], text: str) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in lines) + text


def _replace(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end) span replaced, spans given in any order."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if getattr(k, "value", None) == key), None)


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _span(node: yaml.Node, new: str) -> tuple[int, int, str]:
    return (node.start_mark.index, node.end_mark.index, new)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def write_scoring(text: str, points: Points, header: list[str]) -> str:
    """The scoring file's ``text`` with the proposed points and caps."""
    root = yaml.compose(text)
    edits = []
    for item in _items(_value(root, "rules")):
        rule_id = str(getattr(_value(item, "id"), "value", ""))
        if rule_id not in points.rules:
            continue
        node = _value(item, "points")
        if node is not None:
            edits.append(_span(node, str(points.rules[rule_id])))
        cap = _value(item, "cap")
        for name, new in zip(("per_day", "total"), points.caps[rule_id], strict=True):
            found = _value(cap, name) if cap is not None else None
            if found is not None and new is not None:
                edits.append(_span(found, _number(new)))
    return _header(header, _replace(text, edits))


def write_icp(text: str, points: Points, header: list[str]) -> str:
    """The ICP file's ``text`` with the proposed band points."""
    root = yaml.compose(text)
    edits = []
    for item in _items(_value(root, "criteria")):
        criterion_id = getattr(_value(item, "id"), "value", None)
        for index, band in enumerate(_items(_value(item, "bands"))):
            node = _value(band, "points")
            key = (str(criterion_id), index)
            if node is not None and key in points.bands:
                edits.append(_span(node, str(points.bands[key])))
    return _header(header, _replace(text, edits))


def write_readiness(text: str, rule: ProposedRule, header: list[str]) -> str:
    """The readiness file's ``text`` with its rules replaced by the calibrated one."""
    root = yaml.compose(text)
    rules = _value(root, "rules")
    if rules is None:
        return _header(header, text)
    # A block list is replaced where it stands; anything else (a flow list) by a block
    # list on the lines after ``rules:``.
    block_list = isinstance(rules, yaml.SequenceNode) and not rules.flow_style
    indent = " " * rules.start_mark.column if block_list else "  "
    description = yaml.safe_dump(rule.description, width=1000, allow_unicode=True)
    lines = ["id: calibrated", f"description: {description.splitlines()[0]}"]
    if rule.min_grade is not None:
        lines.append(f"min_grade: {rule.min_grade}")
    if rule.min_score is not None:
        lines.append(f"min_score: {rule.min_score}")
    block = "- " + f"\n{indent}  ".join(lines)
    start, end = rules.start_mark.index, rules.end_mark.index
    if block_list:
        end = start + len(text[start:end].rstrip())
    else:
        block = "\n" + indent + block
    return _header(header, text[:start] + block + text[end:])

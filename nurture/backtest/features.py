"""What calibration learns from: one row of numbers per history lead, as of its cut-off
(pure).

**As of when.** A lead is described at its *cut-off*: the moment of its last event before
its outcome (for a converter, strictly before the conversion, so nothing sales did after
it, or the purchase itself, leaks in; for a lead that never converted, its last event; for
a lead without events, its creation). Only events up to the cut-off are scored, and the
aggregate-only facts count only from the history's ``facts_at`` (``replay.fields_known``).
The last event is the moment the lead was best known to marketing, so a lead that went
quiet months before the history ends is not described by its decayed, cold score.

**The columns**, each one the proposed file can give points to:

- per scoring rule, its *decayed, capped count*: the points the file's own scoring fold
  awarded by that rule (caps and decay applied, as a live rescore does), divided by the
  rule's points. A rule given ``p`` points, with its caps scaled by ``p`` too, then adds
  exactly ``p ×`` this number to the score, so a fitted weight *is* the rule's points;
- per ICP criterion band, 1 when that band is the first one the lead's value matches
  (the one that earns the points), else 0. A lead no band matches earns 0, which is also
  what a missing value earns.

Per lead the table also keeps the worst grade its failed gates allow (gates are yes/no and
are kept as written, not fitted).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from nurture.backtest.history import HistoryLead
from nurture.backtest.replay import fields_known
from nurture.qualification.comparison import field_value, is_missing
from nurture.qualification.icp import GRADES, ICP
from nurture.scoring import ScoringModel
from nurture.scoring.rules import advance
from nurture.scoring.state import EMPTY, sort_key

# How many leads are described between two progress reports.
_PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class Feature:
    """One column: a scoring rule (``band`` None) or one band of an ICP criterion."""

    kind: str  # "rule" or "band"
    group: str  # the rule's or the criterion's id
    label: str  # what a marketer reads: the rule's description, the band's label
    band: int | None = None

    @property
    def name(self) -> str:
        """``rule demo-request`` or ``industry: core industry``."""
        if self.band is None:
            return f"rule {self.group}"
        return f"{self.group}: {self.label}"


@dataclass(frozen=True)
class FeatureTable:
    """Every history lead described as of its cut-off.

    ``rows`` is leads × features; ``converted`` 1 for a converter; ``grade_cap`` per lead the
    index in ``GRADES`` of the worst grade its failed gates allow (0: no cap).
    """

    features: tuple[Feature, ...]
    rows: npt.NDArray[np.float64]
    converted: npt.NDArray[np.int_]
    grade_cap: npt.NDArray[np.int_]
    keys: tuple[str, ...]

    def columns(self, kind: str) -> list[int]:
        """The indices of the columns of one kind (``rule`` or ``band``)."""
        return [index for index, feature in enumerate(self.features) if feature.kind == kind]

    def groups(self) -> dict[str, list[int]]:
        """Column indices per rule or criterion, in the table's order."""
        found: dict[str, list[int]] = {}
        for index, feature in enumerate(self.features):
            found.setdefault(f"{feature.kind}:{feature.group}", []).append(index)
        return found


def cut_off(lead: HistoryLead) -> datetime:
    """The moment ``lead`` is described at (see the module's docstring)."""
    end = lead.outcome.converted_at if lead.outcome.converted else None
    last = None
    for event in lead.events:
        if end is not None and event.occurred_at >= end:
            continue
        if last is None or event.occurred_at > last:
            last = event.occurred_at
    return last if last is not None and last > lead.created_at else lead.created_at


def feature_list(scoring: ScoringModel, icp: ICP) -> tuple[Feature, ...]:
    """The columns for a scoring file and an ICP, in file order."""
    features = [Feature("rule", rule.id, rule.description or rule.event) for rule in scoring.rules]
    for criterion in icp.criteria:
        for index, band in enumerate(criterion.bands):
            label = band.label or band.comparison.describe()
            features.append(Feature("band", criterion.id, label, index))
    return tuple(features)


class _Describer:
    """Describes leads one at a time, remembering the ICP's answer per set of values."""

    def __init__(self, scoring: ScoringModel, icp: ICP) -> None:
        self.scoring = scoring
        self.icp = icp
        self.rule_column = {rule.id: index for index, rule in enumerate(scoring.rules)}
        self.band_start: list[int] = []
        column = len(scoring.rules)
        for criterion in icp.criteria:
            self.band_start.append(column)
            column += len(criterion.bands)
        self.width = column
        self.icp_fields = sorted(icp.fields)
        self._fit: dict[tuple[Any, ...], tuple[tuple[int, ...], int]] = {}

    def describe(self, lead: HistoryLead, row: npt.NDArray[np.float64]) -> int:
        """Fill ``row`` for ``lead``; return its gates' grade cap."""
        at = cut_off(lead)
        scored = self.scoring.event_types
        events = sorted(
            (e for e in lead.events if e.occurred_at <= at and e.type in scored), key=sort_key
        )
        for award in advance(self.scoring, EMPTY, events, at).awards:
            if award.points:
                row[self.rule_column[award.rule.id]] += award.now / award.rule.points
        columns, cap = self.fit(fields_known(lead, at))
        for column in columns:
            row[column] = 1.0
        return cap

    def fit(self, fields: Mapping[str, Any]) -> tuple[tuple[int, ...], int]:
        """The band columns ``fields`` earn and the grade cap of the failed gates."""
        try:
            key: tuple[Any, ...] | None = tuple(fields.get(name) for name in self.icp_fields)
            hash(key)
        except TypeError:  # a list value (several departments): not remembered
            key = None
        if key is not None and key in self._fit:
            return self._fit[key]
        columns: list[int] = []
        for start, criterion in zip(self.band_start, self.icp.criteria, strict=True):
            value = field_value(fields, criterion.field)
            if is_missing(value):
                continue
            for index, band in enumerate(criterion.bands):
                if band.comparison.test(value):
                    columns.append(start + index)
                    break
        cap = 0
        for gate in self.icp.gates:
            passed = gate.comparison.test(field_value(fields, gate.field))
            if passed is False or (passed is None and gate.if_missing == "fail"):
                cap = max(cap, GRADES.index(gate.caps_at))
        answer = (tuple(columns), cap)
        if key is not None:
            self._fit[key] = answer
        return answer


def describe(
    scoring: ScoringModel,
    icp: ICP,
    leads: Sequence[HistoryLead],
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> FeatureTable:
    """The feature table of ``leads`` under the files' rules and criteria."""
    describer = _Describer(scoring, icp)
    rows = np.zeros((len(leads), describer.width), dtype=np.float64)
    caps = np.zeros(len(leads), dtype=np.int_)
    for index, lead in enumerate(leads):
        caps[index] = describer.describe(lead, rows[index])
        if on_progress is not None and (index + 1) % _PROGRESS_EVERY == 0:
            on_progress(index + 1, len(leads))
    if on_progress is not None:
        on_progress(len(leads), len(leads))
    return FeatureTable(
        features=feature_list(scoring, icp),
        rows=rows,
        converted=np.fromiter((lead.outcome.converted for lead in leads), dtype=np.int_),
        grade_cap=caps,
        keys=tuple(lead.key for lead in leads),
    )


def grade_index(
    fit_scores: npt.NDArray[np.float64], icp: ICP, caps: npt.NDArray[np.int_]
) -> npt.NDArray[np.int_]:
    """Per lead, the index in ``GRADES`` of its grade: the fit score (kept within 0–100)
    graded by the ICP's thresholds, then capped by its failed gates."""
    score = np.clip(fit_scores, 0, 100)
    thresholds = icp.grades
    by_score = np.select(
        [score >= thresholds.a, score >= thresholds.b, score >= thresholds.c], [0, 1, 2], 3
    ).astype(np.int_)
    return np.maximum(by_score, caps)

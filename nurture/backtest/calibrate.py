"""Calibration: the points of a scoring file and an ICP, and a readiness rule, learnt from a
history's outcomes (``nurture scoring calibrate``; docs/backtest.md).

The steps, each in its own module:

1. describe every lead as of its cut-off (``features``: per scoring rule its decayed,
   capped count; per ICP band whether it earned it);
2. hold out a seeded, stratified part; fit a logistic regression on the rest, its
   regularisation chosen by cross-validation (``fitting``);
3. turn the weights into whole points, in the files' own text (``proposal``);
4. choose the readiness rule (score bar and grade) for the target on the training part
   (``thresholds``), and report it, the model's AUC, a calibration table and which facts
   weigh most, on the held-out part;
5. replay the held-out leads through today's files and the proposed ones (``report``):
   what the proposed files would really have done, handover by handover.

No file is written here: the caller writes the proposed texts where it is told.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from nurture.backtest.features import FeatureTable, describe, grade_index
from nurture.backtest.findings import Finding
from nurture.backtest.fitting import (
    BOOTSTRAP,
    CalibrationRow,
    Fitted,
    Importance,
    auc,
    boosting_auc,
    calibration_table,
    fit_logistic,
    importance,
    split,
)
from nurture.backtest.history import HistoryLead
from nurture.backtest.proposal import (
    MIN_SUPPORT,
    Points,
    ProposedRule,
    icp_points,
    scoring_points,
    write_icp,
    write_readiness,
    write_scoring,
)
from nurture.backtest.replay import Model
from nurture.backtest.report import Backtest, backtest
from nurture.backtest.thresholds import Choice, Figures, Target, choose_rule, figures
from nurture.backtest.warnings import model_warnings
from nurture.qualification.icp import ICP
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring.parser import load_scoring_text

# The fewest converters (and non-converters) worth calibrating on: fewer, and the held-out
# part and each cross-validation fold have a handful of converters, too few to judge by.
MIN_CONVERTERS = 20

# Below this share of resampled fits agreeing on a weight's sign, the report calls it unsure.
SURE = 0.8

Progress = Callable[[str, int, int], None]


class CalibrationError(Exception):
    """A history calibration cannot learn from (said in a marketer's words)."""


@dataclass(frozen=True)
class Files:
    """The files calibrated: their parsed values and their text (kept in the proposal)."""

    model: Model
    scoring_text: str
    icp_text: str
    readiness_text: str


@dataclass(frozen=True)
class Options:
    """How to calibrate: the target, the held-out share, folds, seed and extras."""

    target: Target = field(default_factory=lambda: Target("balanced"))
    held_out: float = 0.2
    folds: int = 5
    seed: int = 7
    boosting: bool = False
    replay: bool = True


@dataclass(frozen=True)
class Proposed:
    """The proposed files' text and the rule and points in them."""

    scoring: str
    icp: str
    readiness: str
    points: Points
    rule: ProposedRule


@dataclass(frozen=True)
class Calibration:
    """What calibration found and proposes. ``warnings`` are the checks of the history
    and the proposed files (leakage, protected attributes); printed when not empty."""

    leads: int
    converters: int
    trained_on: int
    held_out: int
    target: Target
    fitted: Fitted
    table: FeatureTable
    auc: float | None
    boosting_auc: float | None
    choice: Choice
    held_out_figures: Figures
    calibration: tuple[CalibrationRow, ...]
    importance: tuple[Importance, ...]
    proposed: Proposed
    replays: tuple[Backtest, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[Finding, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        points = self.proposed.points
        model: dict[str, dict[str, Any]] = {"rule": {}, "band": {}}
        weights = dict(zip(self.table.features, self.fitted.coefficients, strict=True))
        for feature, weight in weights.items():
            if feature.band is None:
                model["rule"][feature.group] = {
                    "points": points.rules[feature.group],
                    "log_odds_per_event": round(float(weight), 4),
                }
            else:
                model["band"][feature.name] = {
                    "points": points.bands[(feature.group, feature.band)],
                    "log_odds": round(float(weight), 4),
                }
        return {
            "leads": self.leads,
            "converters": self.converters,
            "trained_on": self.trained_on,
            "held_out": self.held_out,
            "target": str(self.target),
            "target_met_in_training": self.choice.met,
            "proposed_rule": {
                "min_score": self.proposed.rule.min_score,
                "min_grade": self.proposed.rule.min_grade,
            },
            "cross_validation_auc": [round(a, 4) for a in self.fitted.cv_auc],
            "regularisation_c": self.fitted.c,
            "held_out_auc": None if self.auc is None else round(self.auc, 4),
            "held_out_boosting_auc": (
                None if self.boosting_auc is None else round(self.boosting_auc, 4)
            ),
            "training": self.choice.chosen_on.as_dict(),
            "held_out_rule": self.held_out_figures.as_dict(),
            "calibration": [
                {
                    "decile": row.decile,
                    "leads": row.leads,
                    "predicted": round(row.predicted, 4),
                    "observed": round(row.observed, 4),
                    "converters": row.converters,
                }
                for row in self.calibration
            ],
            "importance": [
                {
                    "kind": item.kind,
                    "id": item.id,
                    "direction": item.direction,
                    "strongest_band": item.strongest or None,
                    "standardised_weight": round(item.weight, 4),
                    "same_sign_in_resamples": round(item.agreement, 2),
                    "auc_drop": round(item.auc_drop, 4),
                }
                for item in self.importance
            ],
            "points": model,
            "replay_held_out": [replay.as_dict(missed=0) for replay in self.replays],
            "notes": list(self.notes),
            "warnings": [warning.as_dict() for warning in self.warnings],
        }


def check_outcomes(leads: Sequence[HistoryLead]) -> int:
    """The number of converters, or CalibrationError when there is too little to learn."""
    if not leads:
        raise CalibrationError("the history has no leads: import one with `nurture history import`")
    converters = sum(1 for lead in leads if lead.outcome.converted)
    if converters == 0:
        raise CalibrationError(
            "no lead in the history converted: there is nothing to learn what converts from"
        )
    if converters == len(leads):
        raise CalibrationError(
            "every lead in the history converted: calibration needs leads that did not too"
        )
    fewer = min(converters, len(leads) - converters)
    if fewer < MIN_CONVERTERS:
        which = "converters" if converters == fewer else "leads that did not convert"
        raise CalibrationError(
            f"only {fewer} {which} in the history: calibration needs at least "
            f"{MIN_CONVERTERS} to hold some out and cross-validate"
        )
    return converters


def calibrate(
    files: Files,
    leads: Sequence[HistoryLead],
    options: Options,
    *,
    made_at: datetime,
    source: str,
    on_progress: Progress | None = None,
) -> Calibration:
    """Calibrate ``files`` on ``leads`` (see the module's docstring)."""
    converters = check_outcomes(leads)
    step = on_progress or (lambda name, done, total: None)
    model = files.model
    table = describe(
        model.scoring,
        model.icp,
        leads,
        on_progress=lambda done, total: step("describing leads", done, total),
    )
    train, test = split(table.converted, options.held_out, options.seed)
    learning = int(table.converted[train].sum())
    if min(learning, len(train) - learning) < options.folds:
        raise CalibrationError(
            f"only {learning} converters to learn from after holding some out: use fewer "
            f"folds than {options.folds}, or a longer history"
        )
    step("fitting", 0, 1)
    # The matrices are narrow (tens of columns): BLAS and OpenMP threads spend more time
    # waiting for each other than they save (30× slower fits, measured on 2 busy cores).
    with threadpool_limits(limits=1):
        fitted = fit_logistic(
            table.rows[train], table.converted[train], folds=options.folds, seed=options.seed
        )
    points = _points(model, table, fitted, (table.rows[train] != 0).sum(axis=0))
    scores, grades = proposed_facts(table, points, model.icp)
    step("choosing the readiness rule", 0, 1)
    try:
        choice = choose_rule(scores[train], grades[train], table.converted[train], options.target)
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    chance = fitted.chance(table.rows[test])
    rule = ProposedRule(
        choice.min_score,
        choice.min_grade,
        f"calibrated on {source} for {options.target}",
    )
    proposed = _proposal(
        files, points, rule, made_at=made_at, source=source, choice=choice, target=options.target
    )
    step("explaining", 0, 1)
    with threadpool_limits(limits=1):
        explained = importance(fitted, table, test, seed=options.seed)
        boosted = None
        if options.boosting:
            step("gradient boosting", 0, 1)
            boosted = boosting_auc(table, train, test, seed=options.seed)
    replays: tuple[Backtest, ...] = ()
    if options.replay:
        held = [leads[i] for i in test]
        step("replaying the held-out leads", 0, 2)
        current = backtest(model, held, name="today's files")
        step("replaying the held-out leads", 1, 2)
        replays = (current, backtest(_model(proposed), held, name="proposed files"))
        step("replaying the held-out leads", 2, 2)
    return Calibration(
        leads=len(leads),
        converters=converters,
        trained_on=len(train),
        held_out=len(test),
        target=options.target,
        fitted=fitted,
        table=table,
        auc=auc(table.converted[test], chance),
        boosting_auc=boosted,
        choice=choice,
        held_out_figures=figures(choice.selects(scores[test], grades[test]), table.converted[test]),
        calibration=calibration_table(chance, table.converted[test]),
        importance=explained,
        proposed=proposed,
        replays=replays,
        notes=points.notes,
        # Which facts the proposal reads decides each warning's advice: the proposed
        # files are the ones a marketer is about to review.
        warnings=tuple(model_warnings(leads, [_model(proposed)])),
    )


def _points(
    model: Model, table: FeatureTable, fitted: Fitted, support: npt.NDArray[np.int_]
) -> Points:
    """The fitted weights as points for the files (``support``: per column, how many
    training leads it was not 0 for)."""
    rules: dict[str, float] = {}
    rule_support: dict[str, int] = {}
    bands: dict[tuple[str, int], float] = {}
    band_support: dict[tuple[str, int], int] = {}
    for feature, weight, count in zip(table.features, fitted.coefficients, support, strict=True):
        if feature.band is None:
            rules[feature.group], rule_support[feature.group] = float(weight), int(count)
        else:
            key = (feature.group, feature.band)
            bands[key], band_support[key] = float(weight), int(count)
    rule_points, caps, rule_notes = scoring_points(model.scoring, rules, rule_support)
    band_points, band_notes = icp_points(model.icp, bands, band_support)
    notes = rule_notes + band_notes + _unsure(table, fitted, support)
    return Points(rule_points, caps, band_points, tuple(notes))


def proposed_facts(
    table: FeatureTable, points: Points, icp: ICP
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int_]]:
    """Per lead, its engagement score and fit grade (index) at its cut-off under ``points``."""
    rule_points = np.array(
        [points.rules[f.group] if f.band is None else 0 for f in table.features], dtype=float
    )
    band_points = np.array(
        [0 if f.band is None else points.bands[(f.group, f.band)] for f in table.features],
        dtype=float,
    )
    scores = table.rows @ rule_points
    fit = table.rows @ band_points
    return scores, grade_index(fit, icp, table.grade_cap)


def _unsure(table: FeatureTable, fitted: Fitted, support: npt.NDArray[np.int_]) -> list[str]:
    """A note naming the weighted columns whose direction the history is unsure of."""
    named = [
        f"{feature.name} ({agreement:.0%})"
        for feature, agreement, count in zip(table.features, fitted.agreement, support, strict=True)
        if count >= MIN_SUPPORT and agreement < SURE
    ]
    if not named:
        return []
    return [
        "the history is unsure of the direction of "
        + ", ".join(named)
        + f" (share of {BOOTSTRAP} resampled fits with the same sign): treat their points "
        "with care, or calibrate on a longer history"
    ]


def _proposal(
    files: Files,
    points: Points,
    rule: ProposedRule,
    *,
    made_at: datetime,
    source: str,
    choice: Choice,
    target: Target,
) -> Proposed:
    header = [
        f"PROPOSED by `nurture scoring calibrate` on {made_at:%Y-%m-%d %H:%M} UTC from {source}.",
        "Nothing uses this file until you review it and copy it over the live one.",
        "",
    ]
    chosen = choice.chosen_on
    rule_header = [
        *header[:2],
        f"The rule below was chosen for {target} on the training leads: precision "
        f"{_share(chosen.precision)}, recall {_share(chosen.recall)}.",
        "It reads the scores and grades of the proposed scoring and ICP files.",
        "",
    ]
    return Proposed(
        scoring=write_scoring(files.scoring_text, points, header),
        icp=write_icp(files.icp_text, points, header),
        readiness=write_readiness(files.readiness_text, rule, rule_header),
        points=points,
        rule=rule,
    )


def _model(proposed: Proposed) -> Model:
    """The proposed files as a model to replay; they parse, or calibration has a bug."""
    scoring = load_scoring_text(proposed.scoring, "scoring.proposed.yaml")
    icp = load_icp_text(proposed.icp, "icp.proposed.yaml")
    readiness = load_readiness_text(proposed.readiness, "readiness.proposed.yaml")
    problems = [*scoring.problems, *icp.problems, *readiness.problems]
    if problems or scoring.value is None or icp.value is None or readiness.value is None:
        raise CalibrationError(
            "the proposed files do not parse (please report this): "
            + "; ".join(str(problem) for problem in problems)
        )
    return Model(scoring.value, icp.value, readiness.value)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"

"""Fitting the weights of the columns to the outcomes, and judging the fit (scikit-learn).

- ``split``: a seeded, stratified held-out part (the same share of converters on each side);
- ``fit_logistic``: logistic regression on standardised columns, its regularisation chosen
  by stratified k-fold cross-validation on the training part (AUC per fold kept), the
  weights turned back into the columns' own units (per decayed count, per band);
- ``auc``, ``calibration_table``: how well the predicted chances rank and match what
  happened, on the held-out part;
- ``importance``: per scoring rule or ICP criterion, how much the held-out AUC drops when
  its columns are shuffled between leads (permutation importance), with the direction of
  its standardised weight;
- ``boosting_auc``: gradient boosting's held-out AUC, for comparison (it may find
  interactions a points model cannot express; a large gap says the points leave much out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nurture.backtest.features import FeatureTable

# scikit-learn (with SciPy) takes about a second to import: each function imports what it
# fits with, so loading this module (and with it `nurture scoring validate` or `sync`,
# whose command group also holds `calibrate`) costs only NumPy.

# The regularisation strengths tried (inverse: smaller is stronger), on standardised columns.
C_GRID = (0.01, 0.1, 1.0)
_MAX_ITER = 2000
# How many bootstrap refits say how sure the history is of each weight's direction.
BOOTSTRAP = 20

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int_]


def split(converted: Ints, held_out: float, seed: int) -> tuple[Ints, Ints]:
    """Indices of the training and the held-out leads (stratified by outcome, seeded)."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(converted))
    train, test = train_test_split(
        indices, test_size=held_out, random_state=seed, stratify=converted
    )
    return np.sort(train), np.sort(test)


@dataclass(frozen=True)
class Fitted:
    """A fitted logistic model: weights per column in the column's units and standardised,
    and the cross-validated AUC of each fold at the chosen regularisation."""

    coefficients: Floats
    intercept: float
    standardised: Floats
    c: float
    cv_auc: tuple[float, ...]
    # Per column, the share of bootstrap refits whose weight has the same sign (how sure
    # the history is of the direction; 1.0 for a column that gets no weight).
    agreement: Floats

    def chance(self, rows: Floats) -> Floats:
        """The predicted chance of converting of each row."""
        logit = rows @ self.coefficients + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def fit_logistic(
    rows: Floats, converted: Ints, *, folds: int, seed: int, resamples: int = BOOTSTRAP
) -> Fitted:
    """Logistic regression of ``converted`` on ``rows`` (see the module's docstring)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0  # a column no lead varies in gets no weight
    standard = (rows - mean) / scale
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    best: tuple[float, float, tuple[float, ...]] | None = None
    for c in C_GRID:
        # Each fold standardises with its own training rows: the fold judged stays unseen.
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=_MAX_ITER))
        scores = cross_val_score(pipeline, rows, converted, cv=cv, scoring="roc_auc")
        if best is None or scores.mean() > best[0]:
            best = (float(scores.mean()), c, tuple(float(s) for s in scores))
    assert best is not None
    model = LogisticRegression(C=best[1], max_iter=_MAX_ITER).fit(standard, converted)
    weights = np.asarray(model.coef_[0], dtype=np.float64)
    coefficients = weights / scale
    intercept = float(model.intercept_[0] - (weights * mean / scale).sum())
    agreement = _agreement(standard, converted, weights, best[1], seed, resamples)
    return Fitted(coefficients, intercept, weights, best[1], best[2], agreement)


def _agreement(
    standard: Floats, converted: Ints, weights: Floats, c: float, seed: int, resamples: int
) -> Floats:
    """Per column, the share of ``resamples`` refits on leads drawn with replacement whose
    weight has the sign of ``weights``."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    same = np.zeros(len(weights))
    done = 0
    for _ in range(resamples):
        drawn = rng.integers(0, len(converted), len(converted))
        if converted[drawn].min() == converted[drawn].max():
            continue
        refit = LogisticRegression(C=c, max_iter=_MAX_ITER).fit(standard[drawn], converted[drawn])
        same += np.sign(refit.coef_[0]) == np.sign(weights)
        done += 1
    agreement = same / done if done else np.ones(len(weights))
    agreement[weights == 0] = 1.0
    return np.asarray(agreement, dtype=np.float64)


def auc(converted: Ints, chance: Floats) -> float | None:
    """The area under the ROC curve (None when only one outcome is present)."""
    from sklearn.metrics import roc_auc_score

    if converted.min() == converted.max():
        return None
    return float(roc_auc_score(converted, chance))


@dataclass(frozen=True)
class CalibrationRow:
    """One tenth of the held-out leads by predicted chance: predicted vs observed."""

    decile: int
    leads: int
    predicted: float
    observed: float
    converters: int


def calibration_table(
    chance: Floats, converted: Ints, bins: int = 10
) -> tuple[CalibrationRow, ...]:
    """The leads in ``bins`` equal parts from the lowest predicted chance to the highest."""
    order = np.argsort(chance, kind="stable")
    rows = []
    for number, part in enumerate(np.array_split(order, bins), start=1):
        if len(part) == 0:
            continue
        rows.append(
            CalibrationRow(
                decile=number,
                leads=len(part),
                predicted=float(chance[part].mean()),
                observed=float(converted[part].mean()),
                converters=int(converted[part].sum()),
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class Importance:
    """How much one scoring rule or ICP criterion carries in the fitted model."""

    kind: str  # "rule" or "criterion"
    id: str
    direction: str  # "+" raises the chance, "-" lowers it, "0" neither
    weight: float  # the largest standardised weight of its columns, with its sign
    strongest: str  # the column with that weight (a criterion's band label; "" for a rule)
    agreement: float  # that column's share of bootstrap refits with the same sign
    auc_drop: float  # held-out AUC lost when its columns are shuffled (mean of repeats)
    auc_drop_sd: float


def importance(
    fitted: Fitted, table: FeatureTable, test: Ints, *, seed: int, repeats: int = 3
) -> tuple[Importance, ...]:
    """Per rule and criterion, its permutation importance on the held-out rows ``test``."""
    rows = table.rows[test]
    converted = table.converted[test]
    base = auc(converted, fitted.chance(rows))
    rng = np.random.default_rng(seed)
    found = []
    for name, columns in table.groups().items():
        kind, group = name.split(":", 1)
        drops = []
        for _ in range(repeats):
            shuffled = rows.copy()
            shuffled[:, columns] = rows[rng.permutation(len(rows))][:, columns]
            after = auc(converted, fitted.chance(shuffled))
            drops.append(0.0 if base is None or after is None else base - after)
        weights = fitted.standardised[columns]
        at = int(np.argmax(np.abs(weights)))
        strongest = float(weights[at])
        feature = table.features[columns[at]]
        direction = "+" if strongest > 1e-9 else "-" if strongest < -1e-9 else "0"
        found.append(
            Importance(
                kind="rule" if kind == "rule" else "criterion",
                id=group,
                direction=direction,
                weight=strongest,
                strongest="" if feature.band is None else feature.label,
                agreement=float(fitted.agreement[columns[at]]),
                auc_drop=float(np.mean(drops)),
                auc_drop_sd=float(np.std(drops)),
            )
        )
    found.sort(key=lambda item: (-item.auc_drop, -abs(item.weight), item.id))
    return tuple(found)


def boosting_auc(table: FeatureTable, train: Ints, test: Ints, *, seed: int) -> float | None:
    """Gradient boosting's held-out AUC on the same columns and split."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Shallow trees, a slow rate and large leaves: converters are few and the history noisy.
    model = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=300, max_leaf_nodes=15, min_samples_leaf=50,
        l2_regularization=1.0, early_stopping=True, random_state=seed,
    )  # fmt: skip
    model.fit(table.rows[train], table.converted[train])
    chance = np.asarray(model.predict_proba(table.rows[test])[:, 1], dtype=np.float64)
    return auc(table.converted[test], chance)

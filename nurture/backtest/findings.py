"""What a warning is (``Finding``) and where the files read each fact (``facts_used``):
shared by every kind of warning (``nurture.backtest.warnings``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nurture.qualification import ICP, Readiness
from nurture.scoring import ScoringModel


@dataclass(frozen=True)
class Finding:
    """One warning: ``kind`` is ``leakage``, ``protected`` or ``proxy``; ``fact`` a field
    name (``attributes.history.closed_tag``) or an event type (``custom.invoice_paid``);
    ``figures`` the numbers behind ``message``; ``used_by`` the places of the given files
    that read the fact (empty when none does)."""

    kind: str
    fact: str
    message: str
    figures: Mapping[str, Any] = field(default_factory=dict, hash=False)
    used_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "kind": self.kind,
            "fact": self.fact,
            "message": self.message,
            "figures": dict(self.figures),
            "used_by": list(self.used_by),
        }


def facts_used(
    *,
    scoring: ScoringModel | None = None,
    icp: ICP | None = None,
    readiness: Readiness | None = None,
) -> dict[str, tuple[str, ...]]:
    """Fact → where the files read it: ICP gates and criteria read fields, scoring rules
    read event types; a readiness file reads them through the fit grade (rules with a
    ``min_grade``) and the engagement score (the others), which is said beside them."""
    used: dict[str, list[str]] = {}
    grading = scored = hand_raises = ""
    if readiness is not None:
        rules = readiness.rules
        grading = _through(
            "fit grade", [r.id for r in rules if r.min_grade or (r.account and r.account.min_grade)]
        )
        scored = _through(
            "engagement score", [r.id for r in rules if r.temperatures or r.min_score]
        )
        hand_raises = _through("hand-raise", [r.id for r in rules if r.hand_raised])
    for gate in icp.gates if icp else ():
        used.setdefault(gate.field, []).append(f"ICP gate '{gate.id}'{place_in(icp, gate.line)}")
    for criterion in icp.criteria if icp else ():
        where = f"ICP criterion '{criterion.id}'{place_in(icp, criterion.line)}"
        used.setdefault(criterion.field, []).append(where)
    for places in used.values():
        places.extend([grading] if grading else [])
    for rule in scoring.rules if scoring else ():
        used.setdefault(rule.event, []).append(
            f"scoring rule '{rule.id}'{place_in(scoring, rule.line)}"
        )
    for rule in scoring.rules if scoring else ():
        readers = [scored, hand_raises if rule.hand_raiser else ""]
        places = used[rule.event]
        places.extend(r for r in readers if r and r not in places)
    return {name: tuple(places) for name, places in used.items()}


def _through(what: str, rules: Sequence[str]) -> str:
    if not rules:
        return ""
    names = ", ".join(f"'{rule}'" for rule in rules)
    return f"readiness rule{'s' if len(rules) > 1 else ''} {names} (through the {what})"


def place_in(model: ICP | ScoringModel | None, line: int) -> str:
    path = model.source_path if model is not None else None
    return f" ({path}:{line})" if path and line else ""


def used_places(used: Collection[str] | Mapping[str, Sequence[str]]) -> Mapping[str, Sequence[str]]:
    if isinstance(used, Mapping):
        return used
    return {name: ("the model",) for name in used}

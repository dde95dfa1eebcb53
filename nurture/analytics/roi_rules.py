"""ROI's rules (pure): return on investment and return on ad spend of a group, and how the
cost report's rows and the attribution report's rows are set side by side so that nothing
is dropped and the totals add up (docs/analytics.md, "ROI").

    ROI  = (attributed revenue − cost) / cost
    ROAS = attributed revenue / cost

Both are computed from the amounts as shown (to the cent) and rounded to four decimals
(0.01 %); both are None when the cost is 0 — never infinity, and never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")
_RATIO = Decimal("0.0001")

# The kinds of row. ``group``: a group both reports may name; ``no_touch``: the revenue of
# deals without any touch (attribution's ``(no touch)``); ``unattributed``: costs that
# covered no lead and name nothing of the grouping (the cost report's own row); ``rest``:
# the cost report's total less its rows (grouped by campaign, the costs of leads enrolled
# in no campaign, less what a source's cost counted twice for a lead in two campaigns).
GROUP = "group"
NO_TOUCH_KIND = "no_touch"
UNATTRIBUTED = "unattributed"
REST = "rest"
# The row of the whole report.
TOTAL = "total"
# Only a group (or the whole) can have both a cost and a revenue, so only they have ratios.
_WITH_RATIOS = (GROUP, TOTAL)


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to the cent (half up, as people round money)."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def roi(revenue: Decimal, cost: Decimal) -> float | None:
    """``(revenue − cost) / cost`` of the amounts to the cent, to four decimals; None when
    the cost is 0 (nothing was invested, so there is no return on it)."""
    spent = cents(cost)
    if spent <= 0:
        return None
    return float(((cents(revenue) - spent) / spent).quantize(_RATIO, rounding=ROUND_HALF_UP))


def roas(revenue: Decimal, cost: Decimal) -> float | None:
    """``revenue / cost`` of the amounts to the cent, to four decimals; None when the cost
    is 0."""
    spent = cents(cost)
    if spent <= 0:
        return None
    return float((cents(revenue) / spent).quantize(_RATIO, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class RevenueLine:
    """One row of the attribution report: the deals it touched and its revenue per model."""

    group: str | None
    deals: int
    revenue: Mapping[str, Decimal]


@dataclass(frozen=True)
class RoiLine:
    """One row of the ROI report: cost, deals credited, revenue, ROI and ROAS per model."""

    group: str | None
    kind: str
    cost: Decimal
    deals: int
    revenue: dict[str, Decimal]

    @property
    def roi(self) -> dict[str, float | None]:
        """ROI per model (None when the cost is 0 or the row cannot have both sides)."""
        return {model: self._ratio(roi, amount) for model, amount in self.revenue.items()}

    @property
    def roas(self) -> dict[str, float | None]:
        """ROAS per model (None when the cost is 0 or the row cannot have both sides)."""
        return {model: self._ratio(roas, amount) for model, amount in self.revenue.items()}

    def _ratio(
        self, formula: Callable[[Decimal, Decimal], float | None], amount: Decimal
    ) -> float | None:
        return formula(amount, self.cost) if self.kind in _WITH_RATIOS else None


def roi_lines(
    *,
    models: Iterable[str],
    costs: Mapping[str | None, Decimal],
    unattributed: Decimal,
    total_cost: Decimal,
    revenue: Iterable[RevenueLine],
    no_touch: str,
) -> list[RoiLine]:
    """The ROI report's rows, from the cost report's (``costs`` per group, ``unattributed``,
    ``total_cost``) and the attribution report's (``revenue``; its ``no_touch`` group).

    A group is a row when it has a cost or a deal credited; named groups first (by name),
    then ``no_touch``, the no-value group (None), the unattributed costs and the rest, so
    that the rows' costs add up to ``total_cost`` and their revenue to the attribution's
    total under every model."""
    names = tuple(models)
    zero = dict.fromkeys(names, Decimal(0))
    found: dict[str | None, RevenueLine] = {line.group: line for line in revenue}
    groups = {group for group, amount in costs.items() if amount != 0}
    groups |= {group for group, line in found.items() if line.deals or any(line.revenue.values())}
    named = sorted(g for g in groups if g is not None and g != no_touch)
    order = [*named, *(g for g in (no_touch, None) if g in groups)]
    lines = []
    for group in order:
        line = found.get(group)
        lines.append(
            RoiLine(
                group=group,
                kind=NO_TOUCH_KIND if group == no_touch else GROUP,
                cost=costs.get(group, Decimal(0)),
                deals=line.deals if line is not None else 0,
                revenue={m: line.revenue.get(m, Decimal(0)) for m in names} if line else zero,
            )
        )
    if unattributed:
        lines.append(RoiLine(None, UNATTRIBUTED, unattributed, 0, dict(zero)))
    rest = total_cost - sum(costs.values(), Decimal(0)) - unattributed
    if cents(rest) != 0:
        lines.append(RoiLine(None, REST, rest, 0, dict(zero)))
    return lines


def roi_total(
    *, models: Iterable[str], total_cost: Decimal, deals: int, revenue: Decimal
) -> RoiLine:
    """The total row: every cost of the period against every deal's whole value (under any
    model a deal's credits add up to its value)."""
    return RoiLine(None, TOTAL, total_cost, deals, dict.fromkeys(models, revenue))

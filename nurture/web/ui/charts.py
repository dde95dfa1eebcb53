"""The reports' charts as plain geometry (pure): how long each bar is, where each marker
sits, how dark each cell of a heat table is. The templates draw them (``ui/reports``).

Every chart is a list of HTML rows whose label and figure are text and whose bar is a small
SVG stretched to the width left over: text stays readable at any screen width (an SVG
drawn whole would shrink its labels to a few pixels on a phone), and no inline style is
needed (the app's Content-Security-Policy forbids them). Lengths are percentages of the
bar area (0–100) so the SVG's ``viewBox`` is ``0 0 100 H``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# A bar for a value above 0 stays visible however small it is against the largest.
MIN_VISIBLE = 0.6
# Heat levels of a cohort cell: 0 (nothing) to HEAT_LEVELS - 1 (the highest share).
HEAT_LEVELS = 6


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: ``length`` is the bar's share of the axis (0–100)."""

    label: str
    value: float | None
    length: float
    figure: str


@dataclass(frozen=True)
class RangeBar:
    """One row of a spread chart (velocity): the median as a bar, the p75 as its lighter
    extension, the p90 as a tick, each as a share of the axis (0–100); None where the
    measure has no spans."""

    label: str
    median: float | None
    p75: float | None
    p90: float | None
    figure: str


@dataclass(frozen=True)
class Column:
    """One column of a time series: ``height`` is its share of the axis (0–100)."""

    label: str
    value: float
    height: float
    figure: str


def _scale(value: float | None, top: float) -> float:
    if value is None or value <= 0 or top <= 0:
        return 0.0
    return round(max(value / top * 100, MIN_VISIBLE), 2)


def bars(items: Sequence[tuple[str, float | None, str]]) -> list[Bar]:
    """Bars for ``(label, value, figure)`` rows, the longest value filling the axis;
    ``figure`` is the value as the page prints it."""
    top = max((value or 0.0 for _, value, _ in items), default=0.0)
    return [Bar(label, value, _scale(value, top), figure) for label, value, figure in items]


def range_bars(
    items: Sequence[tuple[str, float | None, float | None, float | None, str]],
) -> list[RangeBar]:
    """Spread rows for ``(label, median, p75, p90, figure)``, the largest p90 (or p75,
    or median) filling the axis."""
    top = max(
        (max(v or 0.0 for v in values) for _, *values, _ in items),
        default=0.0,
    )
    return [
        RangeBar(
            label,
            _scale(median, top) if median is not None else None,
            _scale(p75, top) if p75 is not None else None,
            _scale(p90, top) if p90 is not None else None,
            figure,
        )
        for label, median, p75, p90, figure in items
    ]


def columns(items: Sequence[tuple[str, float, str]]) -> list[Column]:
    """Columns for ``(label, value, figure)`` points of a series, the highest filling
    the axis."""
    top = max((value for _, value, _ in items), default=0.0)
    return [Column(label, value, _scale(value, top), figure) for label, value, figure in items]


def heat_level(share: float | None) -> int:
    """How dark a heat-table cell is for ``share`` (0.0–1.0): 0 for nothing or no share,
    then up to ``HEAT_LEVELS - 1`` in equal steps; any share above 0 is at least 1."""
    if share is None or share <= 0:
        return 0
    # Rounded first: 0.4 / 0.2 is 2.0000000000000004 in floating point, not 2.
    level = math.ceil(round(share * (HEAT_LEVELS - 1), 9))
    return min(HEAT_LEVELS - 1, max(1, level))

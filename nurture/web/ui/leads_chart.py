"""The score-over-time chart of a lead's page, drawn on the server as SVG coordinates
(the template draws them; the numbers are also in a table beside it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nurture.reports.lead_page import ScorePoint

WIDTH = 600
HEIGHT = 180
LEFT = 40  # room for the axis labels
BOTTOM = 20
TOP = 10


@dataclass(frozen=True)
class Chart:
    """What the SVG needs: the line, the axis ticks, the band lines."""

    points: str  # "x,y x,y …" for a <polyline>
    ticks: list[tuple[float, str]]  # (y, label)
    bands: list[tuple[float, str]]  # (y, warm|hot)
    maximum: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: int = HEIGHT - BOTTOM


def score_chart(history: Sequence[ScorePoint], bands: tuple[float, float] | None) -> Chart | None:
    """The chart of ``history`` (None when there is nothing to draw)."""
    if not history:
        return None
    values = [point.score for point in history]
    top = max([*values, *(bands or ()), 1.0])
    bottom = min(0.0, *values)
    span = (top - bottom) or 1.0
    inner_w = WIDTH - LEFT - 10
    inner_h = HEIGHT - BOTTOM - TOP

    def y(value: float) -> float:
        return round(TOP + inner_h * (1 - (value - bottom) / span), 1)

    step = inner_w / max(len(values) - 1, 1)
    points = " ".join(f"{round(LEFT + i * step, 1)},{y(v)}" for i, v in enumerate(values))
    ticks = [(y(value), f"{value:g}") for value in _ticks(bottom, top)]
    band_lines = []
    if bands is not None:
        band_lines = [(y(bands[0]), "warm"), (y(bands[1]), "hot")]
    return Chart(points, ticks, band_lines, top)


def _ticks(bottom: float, top: float) -> list[float]:
    span = top - bottom
    raw = span / 4
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    nice = max(round(raw / magnitude) * magnitude, 1)
    value = 0.0 if bottom >= 0 else -nice * int(-bottom // nice + 1)
    found = []
    while value <= top + 1e-9:
        if value >= bottom - 1e-9:
            found.append(round(value, 6))
        value += nice
    return found

"""The reports as tables (pure): a header and rows of plain values, the one shape the CLI's
table and CSV and a later export share. Rates are fractions (0.75), None where there was
nothing to convert; a missing group is None."""

from __future__ import annotations

from nurture.analytics.definitions import COUNTS, RATES, WINDOWS
from nurture.analytics.durations import MEASURES
from nurture.analytics.funnel import REACHED, CohortReport, FunnelReport
from nurture.analytics.velocity import VelocityReport

Cell = str | int | float | None


def funnel_table(report: FunnelReport) -> tuple[list[str], list[list[Cell]]]:
    """The period view: group, the counts, the rates."""
    header = ["group", *COUNTS, *(name for name, _, _ in RATES)]
    rows: list[list[Cell]] = []
    for row in report.rows:
        rates = row.rates
        rows.append([row.group, *(row.counts[n] for n in COUNTS), *(rates[n] for n, _, _ in RATES)])
    return header, rows


def cohort_table(report: CohortReport) -> tuple[list[str], list[list[Cell]]]:
    """The cohort view: month, group, created, then per stage reached by now and within
    each window (``mql``, ``mql_30d``, ``mql_60d``, ``mql_90d``, ``sal``, …)."""
    header = ["month", "group", "created"]
    for stage in REACHED:
        header += [stage, *(f"{stage}_{days}d" for days in WINDOWS)]
    rows: list[list[Cell]] = []
    for row in report.rows:
        cells: list[Cell] = [row.month, row.group, row.created]
        for stage in REACHED:
            reach = row.reached[stage]
            cells += [reach.by_now, *(reach.within[days] for days in WINDOWS)]
        rows.append(cells)
    return header, rows


def velocity_table(report: VelocityReport) -> tuple[list[str], list[list[Cell]]]:
    """Velocity: one row per group and measure (``MEASURES``), its count and its median,
    p75 and p90 in days; ``waiting`` only for the first sales action (offers not answered
    yet), None elsewhere."""
    header = ["group", "measure", "count", "median_days", "p75_days", "p90_days", "waiting"]
    rows: list[list[Cell]] = []
    for row in report.rows:
        for name in MEASURES:
            figures = row.measures[name]
            rows.append(
                [
                    row.group,
                    name,
                    figures.count,
                    figures.median,
                    figures.p75,
                    figures.p90,
                    figures.waiting,
                ]
            )
    return header, rows

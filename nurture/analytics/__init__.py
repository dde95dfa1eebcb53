"""Analytics: the funnel and its conversion figures, computed from history (issue 11).

- ``filters``: what a report is asked for (period, filters, grouping), parsed and checked
  (pure);
- ``definitions``: the funnel's stages, which stages a stage change enters, the rates and
  the rows (pure);
- ``scope``: the filters and groupings as SQL over the leads, and the check that a filter
  names something that exists;
- ``funnel``: the period view and the cohort view;
- ``durations``: velocity's definitions: percentiles, stays in a stage, first touch, the
  first sales action on a handoff (pure);
- ``velocity``: time in each stage, the sales cycle, and MQL to first sales action;
- ``rollup``: each lead's first time in each funnel stage (``lead_stage_firsts``), kept
  with every stage change (``subscriptions``) and recomputed from history on demand.

Nothing here changes data but the roll-up, which only follows history. docs/analytics.md
states every definition with a worked example.
"""

from __future__ import annotations

from nurture.analytics.definitions import COUNTS, FUNNEL_STAGES, RATES, WINDOWS
from nurture.analytics.durations import MEASURES, Spread
from nurture.analytics.filters import (
    GROUP_BY,
    VELOCITY_GROUP_BY,
    FilterError,
    ReportFilter,
    parse_filter,
)
from nurture.analytics.funnel import CohortReport, FunnelReport, cohort_report, funnel_report
from nurture.analytics.velocity import VelocityReport, VelocityRow, velocity_report

__all__ = [
    "COUNTS",
    "FUNNEL_STAGES",
    "GROUP_BY",
    "MEASURES",
    "RATES",
    "VELOCITY_GROUP_BY",
    "WINDOWS",
    "CohortReport",
    "FilterError",
    "FunnelReport",
    "ReportFilter",
    "Spread",
    "VelocityReport",
    "VelocityRow",
    "cohort_report",
    "funnel_report",
    "parse_filter",
    "velocity_report",
]

"""Analytics: the funnel and its conversion figures, computed from history (issue 11).

- ``filters``: what a report is asked for (period, filters, grouping), parsed and checked
  (pure);
- ``definitions``: the funnel's stages, which stages a stage change enters, the rates and
  the rows (pure);
- ``scope``: the filters and groupings as SQL over the leads, and the check that a filter
  names something that exists;
- ``funnel``: the period view and the cohort view.

Nothing here changes data. docs/analytics.md states every definition with a worked example.
"""

from __future__ import annotations

from nurture.analytics.definitions import COUNTS, FUNNEL_STAGES, RATES, WINDOWS
from nurture.analytics.filters import GROUP_BY, FilterError, ReportFilter, parse_filter
from nurture.analytics.funnel import CohortReport, FunnelReport, cohort_report, funnel_report

__all__ = [
    "COUNTS",
    "FUNNEL_STAGES",
    "GROUP_BY",
    "RATES",
    "WINDOWS",
    "CohortReport",
    "FilterError",
    "FunnelReport",
    "ReportFilter",
    "cohort_report",
    "funnel_report",
    "parse_filter",
]

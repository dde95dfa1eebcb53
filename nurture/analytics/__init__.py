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
  ``stay_columns``: the stay each stage change ends, kept on the change by the database and
  recomputed from history on demand;
- ``feedback_rules``: the sales feedback loop's definitions: sales' verdict on an offer,
  rule versions, recycled leads coming back (pure); ``feedback``: the report;
  ``feedback_tables``: its tables.
- ``clv_rules`` (pure) and ``clv``: revenue to date per customer and the average customer
  lifetime value per group;
- ``attribution_rules`` (pure: the models and the sharing of money in cents) and
  ``attribution``: won revenue credited to the touches before each win.
- ``costs``: marketing costs (the costs file and the app's entries) and the reports that
  set them against the leads: volume, and cost per lead, MQL and customer.
- ``rollup``: each lead's first time in each funnel stage (``lead_stage_firsts``), kept
  with every stage change (``subscriptions``) and recomputed from history on demand;
  ``first_touches``: each lead's first human touch (``lead_first_touches``), kept by
  triggers on ``events``; ``campaign_entries``: each lead's first enrolment per campaign;
  ``stage_entries``: each entry into a funnel stage with the lead's previous one, kept by
  triggers on ``stage_changes`` (the period view's stage counts).
- ``roi_rules`` (pure: ROI, ROAS, the rows side by side) and ``roi``: the cost report
  against the attribution report, per campaign or source.

Nothing here changes data but ``costs``, which stores the cost entries the reports read,
and the roll-up, which only follows history. docs/analytics.md states every definition
with a worked example.
"""

from __future__ import annotations

from nurture.analytics.definitions import COUNTS, FUNNEL_STAGES, RATES, WINDOWS
from nurture.analytics.durations import MEASURES, Spread
from nurture.analytics.feedback import FeedbackReport, feedback_report
from nurture.analytics.feedback_rules import FEEDBACK_GROUP_BY, FeedbackRow
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
    "FEEDBACK_GROUP_BY",
    "FUNNEL_STAGES",
    "GROUP_BY",
    "MEASURES",
    "RATES",
    "VELOCITY_GROUP_BY",
    "WINDOWS",
    "CohortReport",
    "FeedbackReport",
    "FeedbackRow",
    "FilterError",
    "FunnelReport",
    "ReportFilter",
    "Spread",
    "VelocityReport",
    "VelocityRow",
    "cohort_report",
    "feedback_report",
    "funnel_report",
    "parse_filter",
    "velocity_report",
]

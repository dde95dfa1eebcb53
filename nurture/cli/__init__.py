"""The ``nurture`` command line (click, through Flask's CLI group).

Each topic's commands live in their own module (``*_cmd``) and add themselves to the group
(``group.cli``) when imported; importing this package imports them all.
"""

from __future__ import annotations

from nurture.cli import (  # noqa: F401  (each adds its commands to ``cli``)
    accounts_cmd,
    apikeys_cmd,
    backtest_cmd,
    bounces_cmd,
    calibrate_cmd,
    campaigns_cmd,
    costs_cmd,
    db_cmd,
    demo_cmd,
    enrol_cmd,
    handoffs_cmd,
    lead_show_cmd,
    leads_cmd,
    outbox_cmd,
    preview_cmd,
    privacy_cmd,
    qualification_cmd,
    report_attribution_cmd,
    report_campaigns_cmd,
    report_clv_cmd,
    report_cmd,
    report_costs_cmd,
    report_digest_cmd,
    report_feedback_cmd,
    report_roi_cmd,
    report_volume_cmd,
    revenue_cmd,
    reviews_cmd,
    scoring_cmd,
    serve_cmd,
    sla_cmd,
    team_cmd,
    users_cmd,
    webhooks_cmd,
    worker_cmd,
)
from nurture.cli.group import cli, runtime, valid_or_exit

__all__ = ["cli", "main", "runtime", "valid_or_exit"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="nurture")

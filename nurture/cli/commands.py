"""Every top-level ``nurture`` command: where it lives and its one-line help.

The group imports a command's modules only when that command runs (or its own ``--help`` is
asked for), so ``nurture --help`` and ``nurture worker`` do not pay for importing every
command, the web app and what they use (seconds, before the worker's first send). The help
below is what ``nurture --help`` lists; tests/unit/cli/test_lazy_commands.py checks that
every registered command is here, with its modules and the same help as its docstring.
"""

from __future__ import annotations

from typing import NamedTuple


class LazyCommand(NamedTuple):
    """A command by its import path (``module:attribute``), the other modules that add
    subcommands to it, and its short help."""

    target: str
    short_help: str
    extends: tuple[str, ...] = ()


COMMANDS: dict[str, LazyCommand] = {
    "accounts": LazyCommand(
        "nurture.cli.accounts_cmd:accounts_group",
        "Accounts (companies) and their people.",
    ),
    "apikeys": LazyCommand(
        "nurture.cli.apikeys_cmd:apikeys_group",
        "API keys for the JSON API.",
    ),
    "bounces": LazyCommand(
        "nurture.cli.bounces_cmd:bounces_group",
        "Bounces and complaints: classify (dry run) and ingest.",
    ),
    "campaigns": LazyCommand(
        "nurture.cli.campaigns_cmd:campaigns_group",
        "Campaign files: check them, load them into the database, see what runs.",
    ),
    "costs": LazyCommand(
        "nurture.cli.costs_cmd:costs_group",
        ("Marketing costs per month, source and campaign: the costs file and the app's entries."),
    ),
    "db": LazyCommand(
        "nurture.cli.db_cmd:db_group",
        "Database schema (Alembic migrations).",
    ),
    "demo": LazyCommand(
        "nurture.cli.demo_cmd:demo_command",
        (
            "Set up a fresh demo instance (SQLite + local outbox), load the bundled B2B campaign,"
            " scoring model, ICP, readiness rule and sales team, import sample leads, simulate "
            "the last WEEKS of nurturing hour by hour (tracking, scoring, handoffs to sales), "
            "show what happened, then serve the demo's web app with an account for each role."
        ),
    ),
    "enrol": LazyCommand(
        "nurture.cli.enrol_cmd:enrol_command",
        "Enrol the lead EMAIL in CAMPAIGN (its file id).",
    ),
    "handoffs": LazyCommand(
        "nurture.cli.handoffs_cmd:handoffs_group",
        "Leads handed to sales: who got them, why, and sales' verdict.",
        ("nurture.cli.reviews_cmd",),
    ),
    "history": LazyCommand(
        "nurture.cli.backtest_cmd:history_group",
        "Past leads and their outcomes, to backtest a readiness model on.",
    ),
    "icp": LazyCommand(
        "nurture.cli.qualification_cmd:icp_group",
        "Fit grading: the ideal customer profile (NURTURE_ICP_FILE).",
    ),
    "leads": LazyCommand(
        "nurture.cli.leads_cmd:leads_group",
        "Leads: import from CSV, list.",
        (
            "nurture.cli.lead_show_cmd",
            "nurture.cli.privacy_cmd",
            "nurture.cli.qualification_cmd",
        ),
    ),
    "outbox": LazyCommand(
        "nurture.cli.outbox_cmd:outbox_group",
        "The local outbox: mail stored instead of sent while no SMTP URL is configured.",
    ),
    "preview": LazyCommand(
        "nurture.cli.preview_cmd:preview_command",
        (
            "Write the real HTML (or text) of TEMPLATE as a lead would get it, and print the "
            "subject."
        ),
    ),
    "privacy": LazyCommand(
        "nurture.cli.privacy_cmd:privacy_group",
        "Privacy: retention of raw tracking data.",
    ),
    "readiness": LazyCommand(
        "nurture.cli.qualification_cmd:readiness_group",
        "The MQL definition (NURTURE_READINESS_FILE).",
        ("nurture.cli.backtest_cmd",),
    ),
    "report": LazyCommand(
        "nurture.cli.report_cmd:report_group",
        "Reports computed from history: the funnel, its cohorts, and velocity.",
        (
            "nurture.cli.report_attribution_cmd",
            "nurture.cli.report_campaigns_cmd",
            "nurture.cli.report_clv_cmd",
            "nurture.cli.report_costs_cmd",
            "nurture.cli.report_digest_cmd",
            "nurture.cli.report_feedback_cmd",
            "nurture.cli.report_roi_cmd",
            "nurture.cli.report_volume_cmd",
        ),
    ),
    "revenue": LazyCommand(
        "nurture.cli.revenue_cmd:revenue_group",
        "Revenue after the won deal: renewals, upsells and other income per account.",
    ),
    "scoring": LazyCommand(
        "nurture.cli.scoring_cmd:scoring_group",
        "The behavioural scoring model: check it, load it, rescore leads.",
        ("nurture.cli.calibrate_cmd",),
    ),
    "serve": LazyCommand(
        "nurture.cli.serve_cmd:serve_command",
        "Serve the web app, JSON API and tracking endpoints with gunicorn.",
    ),
    "sla": LazyCommand(
        "nurture.cli.sla_cmd:sla_group",
        "The handoff SLA (NURTURE_SLA_ACCEPT, NURTURE_SLA_REMIND, NURTURE_SLA_ESCALATE).",
    ),
    "team": LazyCommand(
        "nurture.cli.team_cmd:team_group",
        "The sales team: reps, working hours, territories, assignment rules.",
    ),
    "tick": LazyCommand(
        "nurture.cli.worker_cmd:tick_command",
        (
            "Run one pass: turn tracking hits into events, sync changed files, send what is due, "
            "retry what failed, and exit."
        ),
    ),
    "unsubscribes": LazyCommand(
        "nurture.cli.privacy_cmd:unsubscribes_group",
        "Unsubscribes by email (the mailto in List-Unsubscribe).",
    ),
    "users": LazyCommand(
        "nurture.cli.users_cmd:users_group",
        ("Users of the web app and their roles (admin, marketer, sales, sales-manager, viewer)."),
    ),
    "webhooks": LazyCommand(
        "nurture.cli.webhooks_cmd:webhooks_group",
        "Signed webhooks sent for handoff events (NURTURE_WEBHOOK_URLS).",
    ),
    "worker": LazyCommand(
        "nurture.cli.worker_cmd:worker_command",
        "Run the scheduler loop: a tick every NURTURE_TICK_SECONDS until stopped (Ctrl-C).",
    ),
}

"""The demo: a fresh embedded instance, the bundled configuration, sample leads, and
simulated weeks.

It runs the real parts end to end — migrations, campaign, scoring, ICP, readiness and sales
team sync, CSV import with rejects and fit grading, lead intake as the API takes it, the
engine's ticks on a simulated clock, the tracking capture and hit processor, scoring,
readiness, the handoff with its notifications and SLA, sales' verdicts, the local outbox —
so what it shows is what the product does. Only the people are simulated: a seeded random
model has new people fill in the website's forms, leads open and click emails (by each
lead's ``interest``), browse the website and ask for a demo, mail privacy proxies and link
scanners fetch some emails, and the sales team accept, reject, convert or miss the handoffs
made for them. Every reaction is captured as a tracking hit or an events-API call at its
simulated time and goes through the same processor as in production, which classifies it
human or machine and scores it; readiness hands leads to sales from there, and the reps
answer through the same use cases as the inbox's buttons.

``run``: the instance and the simulated clock; ``simulation``: the simulated people;
``arrivals``: who comes through the website's forms; ``sales``: the sales team at work;
``report``: what the demo shows at the end. The sample leads are ``data/leads.csv``, the
people who arrive during the weeks ``data/arrivals.csv``; ``nurture demo --locale pl`` uses
the Polish people of ``data/pl/`` and writes its emails and pages in Polish.
"""

from nurture.demo.accounts import DemoLogin, create_demo_users
from nurture.demo.report import (
    DemoResult,
    HandoffRow,
    LeadRow,
    SalesSummary,
    engagement_counts,
    handoff_rows,
    lead_rows,
    sales_summary,
)
from nurture.demo.run import DEMO_LOCALES, demo_settings, run_demo, simulation_start

__all__ = [
    "DEMO_LOCALES",
    "DemoLogin",
    "DemoResult",
    "HandoffRow",
    "LeadRow",
    "SalesSummary",
    "create_demo_users",
    "demo_settings",
    "engagement_counts",
    "handoff_rows",
    "lead_rows",
    "run_demo",
    "sales_summary",
    "simulation_start",
]

"""The demo: a fresh embedded instance, the bundled configuration, sample leads, and
simulated weeks.

It runs the real parts end to end — migrations, campaign, scoring, ICP, readiness and sales
team sync, CSV import with rejects and fit grading, the engine's ticks on a simulated clock,
the tracking capture and hit processor, scoring, readiness, the handoff with its
notifications and SLA, the local outbox — so what it shows is what the product does. Only
the people are simulated: a seeded random model has leads open and click emails (by each
lead's ``interest``), browse the website and ask for a demo, mail privacy proxies and link
scanners fetch some emails, and sales reps accept, reject or miss some handoffs. Every such
reaction is captured as a tracking hit or an events-API call at its simulated time and goes
through the same processor as in production, which classifies it human or machine and
scores it; readiness hands leads to sales from there.

``run``: the instance and the simulated clock; ``simulation``: the simulated people;
``report``: what the demo shows at the end. The sample leads are ``data/leads.csv``.
"""

from nurture.demo.accounts import DemoLogin, create_demo_users
from nurture.demo.report import (
    DemoResult,
    HandoffRow,
    LeadRow,
    engagement_counts,
    handoff_rows,
    lead_rows,
)
from nurture.demo.run import demo_settings, run_demo, simulation_start

__all__ = [
    "DemoLogin",
    "DemoResult",
    "HandoffRow",
    "LeadRow",
    "create_demo_users",
    "demo_settings",
    "engagement_counts",
    "handoff_rows",
    "lead_rows",
    "run_demo",
    "simulation_start",
]

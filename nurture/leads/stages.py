"""The lifecycle stages: one vocabulary for campaign files, the API, the rules and reports.

``nurture.leads.lifecycle`` holds the moves allowed between them."""

from __future__ import annotations

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "mql",
    "sal",
    "sql",
    "opportunity",
    "customer",
    "recycled",
    "disqualified",
)
# Stages at which marketing has handed the lead to sales; nurture campaigns exit there.
SALES_STAGES = frozenset({"mql", "sal", "sql", "opportunity", "customer"})

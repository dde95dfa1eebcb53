"""Qualification: fit grading against the ideal customer profile, and readiness — the one
shared definition of a marketing-qualified lead (docs/qualification.md).

- ``comparison``, ``icp``, ``readiness``: pure values and rules (no session, no clock).
- ``icp_parser``, ``readiness_parser``: the ICP and readiness files → values, with
  ``file:line`` problems, over what both share (``parser``).
- ``versions``: the files into the database, versioned like the scoring model.
- ``service``: ``regrade_leads``, ``lead_data_changed`` (the intake hook),
  ``regrade_everyone`` and ``evaluate_readiness`` (the hook after every rescore, which
  hands qualifying leads to ``nurture.handoff.hand_off``).
"""

from nurture.qualification.icp import ICP, Fit, grade
from nurture.qualification.readiness import (
    Qualification,
    Readiness,
    Verdict,
    evaluate,
    reasons_as_of,
)
from nurture.qualification.service import (
    FitChange,
    evaluate_readiness,
    lead_data_changed,
    readiness_verdicts,
    regrade_everyone,
    regrade_leads,
)

__all__ = [
    "ICP",
    "Fit",
    "FitChange",
    "Qualification",
    "Readiness",
    "Verdict",
    "evaluate",
    "evaluate_readiness",
    "grade",
    "lead_data_changed",
    "readiness_verdicts",
    "reasons_as_of",
    "regrade_everyone",
    "regrade_leads",
]

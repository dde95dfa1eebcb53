"""The buying committee: the role a person likely plays in a B2B purchase, from their job
title. Pure.

B2B deals are decided by several people; sales wants to know who at the account is already
engaged and who is missing. The roles follow the usual committee model:

- ``decision maker``: owns the budget and signs (C-level, VP, head of, director, founder).
- ``champion``: runs the evaluation day to day and sells it inside (manager, lead).
- ``technical evaluator``: checks that it works (engineer, architect, developer, IT, data).
- ``finance``: checks the price (finance, procurement, purchasing, controller).
- ``user``: will use it every day (analyst, specialist, coordinator, associate).

Titles are messy: the first matching pattern, most senior first, wins; nothing matching is
``unknown`` rather than a guess.
"""

from __future__ import annotations

import re

ROLES = ("decision maker", "champion", "technical evaluator", "finance", "user")

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern, re.IGNORECASE))
    for role, pattern in (
        ("finance", r"\b(cfo|finance|financial|procurement|purchas\w*|controller|treasur\w*)\b"),
        (
            "decision maker",
            r"\b(c[a-z]o|chief|president|vp|vice[- ]president|head of|director|founder|"
            r"co-?founder|owner|partner|general manager|gm|svp|evp)\b",
        ),
        (
            "technical evaluator",
            r"\b(engineer\w*|architect|developer|devops|it|cto|sysadmin|administrator|"
            r"data scientist|security|technical)\b",
        ),
        ("champion", r"\b(manager|lead|team lead|principal|senior manager|supervisor)\b"),
        ("user", r"\b(analyst|specialist|coordinator|associate|assistant|consultant|rep\w*)\b"),
    )
)


def role_for_title(title: str | None) -> str:
    """The likely committee role of someone with this job title (``unknown`` if unclear)."""
    if not title or not title.strip():
        return "unknown"
    for role, pattern in _PATTERNS:
        if pattern.search(title):
            # A CTO is a decision maker who also evaluates; seniority decides here.
            if role == "technical evaluator" and re.search(r"\bcto\b|chief", title, re.I):
                return "decision maker"
            return role
    return "unknown"


def missing_roles(roles: list[str]) -> list[str]:
    """Committee roles nobody engaged covers yet (the people sales should find)."""
    covered = set(roles)
    return [role for role in ROLES[:4] if role not in covered]

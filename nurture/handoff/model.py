"""Plain values of the handoff: the qualification it starts from, statuses, outcomes and the
error every refused action raises. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

STATUSES = ("offered", "accepted", "rejected", "converted", "reassigned")
# A lead has at most one open handoff: offered (waiting for the owner) or accepted.
OPEN_STATUSES = frozenset({"offered", "accepted"})
# Sales outcomes in funnel order; won and lost are final.
OUTCOMES = ("sql", "opportunity", "won", "lost")
FINAL_OUTCOMES = frozenset({"won", "lost"})
# The lifecycle stage each outcome puts the lead at (lost goes back to marketing).
OUTCOME_STAGES = {"sql": "sql", "opportunity": "opportunity", "won": "customer", "lost": "recycled"}
# The forward path of sales stages, walked one step at a time (nurture.leads.lifecycle allows
# only single steps, so the funnel report counts every stage a deal went through).
SALES_PATH = ("mql", "sal", "sql", "opportunity", "customer")


@dataclass(frozen=True)
class Qualification:
    """Why a lead is handed off: the readiness rule that fired and the reasons in words.

    ``hand_raiser`` says the qualifying signal was a hand-raise (demo request, contact
    form): the lead then gets an auto-reply. None means "work it out from the lead"
    (``lead.hand_raised_at`` recent). ``event_id`` names the qualifying event if known.
    ``auto_reply`` False: the hand-raiser was answered already (a hand-raise marketing
    reviewed before sending it to sales), so the handoff sends no second reply.
    """

    rule: str
    reasons: Sequence[str] = field(default_factory=tuple)
    hand_raiser: bool | None = None
    event_id: int | None = None
    readiness_version: int | None = None
    auto_reply: bool = True


class QualificationLike(Protocol):
    """Anything with ``rule`` and ``reasons`` (the readiness evaluator's own result)."""

    @property
    def rule(self) -> str: ...

    @property
    def reasons(self) -> Sequence[str]: ...


class HandoffError(Exception):
    """A refused handoff action; nothing was changed.

    ``code`` is stable for machines (``not_found``, ``already_accepted``, ``reassigned``,
    ``unknown_reason``, ``expired``, ``invalid_link``, ...); ``status`` the HTTP status the
    API answers with; the message is for people (English: the CLI and the API). ``facts``
    are what a page needs to say the same in its reader's language (``day``: a datetime,
    ``name``, ``reason``, ``outcome``), keyed as the code's sentence names them.
    """

    def __init__(self, code: str, message: str, *, status: int = 409, **facts: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.facts = facts


def stage_path(current: str, target: str) -> list[str]:
    """The stages to step through from ``current`` to ``target`` along the sales path
    (``sal`` → ``customer`` is sql, opportunity, customer); a target off the path (or
    behind) is one direct step."""
    if current in SALES_PATH and target in SALES_PATH:
        start, end = SALES_PATH.index(current), SALES_PATH.index(target)
        if end > start:
            return list(SALES_PATH[start + 1 : end + 1])
        return []
    return [target] if target != current else []


def outcome_error(current: str | None, wanted: str) -> str | None:
    """Why an outcome cannot be recorded after ``current``, or None."""
    if wanted not in OUTCOMES:
        return f"unknown outcome {wanted!r}: use {', '.join(OUTCOMES)}"
    if current in FINAL_OUTCOMES:
        return f"the deal is already {current}; its outcome is final"
    if current is not None and OUTCOMES.index(wanted) < OUTCOMES.index(current):
        return f"the handoff is already at {current}; outcomes only move forward"
    if current == wanted:
        return f"the handoff is already at {wanted}"
    return None

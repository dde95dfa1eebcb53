"""The sales feedback loop's definitions (pure): sales' verdict on an offer, the rule
version a handoff is grouped under, whether a recycled lead came back as an MQL, and the
rows of the report (docs/analytics.md, "Sales feedback loop").

- **An offer** is a handoff that is not a reassignment (the lead became an MQL and was
  given to sales), with the reassignments that followed it (its *chain*).
- **Sales' verdict** on an offer is its chain's first response by a rep (an ``accepted``,
  ``rejected`` or ``converted`` entry of the handoff's log, as velocity's first sales
  action): ``accepted`` for an accept or a convert (a convert accepts an offered handoff),
  ``rejected`` for a reject, ``waiting`` while no rep has answered. A lead accepted and
  given back later was accepted as an MQL; the later rejection counts in the rejection
  reasons.
- **The acceptance rate** is accepted ÷ (accepted + rejected): offers still waiting are
  not decided yet.
- **A recycled lead** came back as an MQL when a stage change took it to ``mql`` after it
  entered ``recycled``: by now, and within 30, 60 and 90 days (the cohort view's windows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from nurture.analytics.definitions import WINDOWS, Reach, rate
from nurture.analytics.durations import RESPONSES
from nurture.analytics.filters import GROUP_BY, FilterError

# The feedback report also groups by the readiness rule and its file version.
FEEDBACK_GROUP_BY: tuple[str, ...] = (*GROUP_BY, "rule")
VERDICTS: tuple[str, ...] = ("accepted", "rejected", "waiting")
# The log entries that accept a lead (a convert of an offered handoff accepts it too).
ACCEPTING = frozenset({"accepted", "converted"})
# A rejection without a reason code (none is recorded since reasons are required; kept for
# rows written by hand or by an older version).
UNKNOWN_REASON = "unknown"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class Response(NamedTuple):
    """One rep's answer on a handoff: when, what (``RESPONSES``), on which handoff."""

    at: datetime
    action: str
    handoff_id: int


def chain(offer: int, successor: Mapping[int, int]) -> list[int]:
    """The offer and the handoffs it was reassigned to, in order (``successor`` maps a
    handoff to the one that replaced it)."""
    found: list[int] = []
    handoff: int | None = offer
    while handoff is not None and handoff not in found:
        found.append(handoff)
        handoff = successor.get(handoff)
    return found


def verdict(
    handoffs: Sequence[int], responses: Mapping[int, Response]
) -> tuple[str, Response | None]:
    """Sales' verdict on a chain of ``handoffs`` (``VERDICTS``) and the response that made
    it: the earliest of ``responses`` (each handoff's first answer) over the chain."""
    answers = [responses[h] for h in handoffs if h in responses]
    if not answers:
        return "waiting", None
    first = min(answers)
    if first.action not in RESPONSES:
        raise ValueError(f"{first.action!r} is not a sales response")
    return ("accepted" if first.action in ACCEPTING else "rejected"), first


def rule_version(rule: str | None, version: int | None) -> str | None:
    """How a handoff's readiness rule and file version are named: ``hot-lead v3``, or
    ``hot-lead (unknown version)`` for a handoff made before versions were recorded."""
    if rule is None:
        return None
    return f"{rule} v{version}" if version is not None else f"{rule} (unknown version)"


# A lead that has not come back (most of them): one value shared by all, as a report
# sums tens of thousands of them (Reach is frozen and nobody changes its counts).
NOT_BACK = Reach()


def came_back(recycled_at: datetime, mql_at: Iterable[datetime]) -> Reach:
    """Whether a lead recycled at ``recycled_at`` entered ``mql`` again afterwards: by now
    and within each of ``WINDOWS`` days (1 or 0 each, to be summed per group)."""
    later = [moment for moment in mql_at if moment > recycled_at]
    if not later:
        return NOT_BACK
    back = min(later) - recycled_at
    return Reach(by_now=1, within={d: int(back < timedelta(days=d)) for d in WINDOWS})


def add_reach(total: Reach, more: Reach) -> Reach:
    """Two reaches summed."""
    return Reach(
        by_now=total.by_now + more.by_now,
        within={d: total.within.get(d, 0) + more.within.get(d, 0) for d in WINDOWS},
    )


def parse_flag(name: str, text: str | None) -> bool:
    """A yes/no query parameter (``1``/``0``, ``true``/``false``, ``yes``/``no``), or
    ``FilterError`` naming it."""
    value = (text or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FilterError({name: f"{value[:20]!r} is not a yes/no value: use 1 or 0"})


@dataclass(frozen=True)
class FeedbackRow:
    """One group: the offers made in the period and sales' verdicts on them; how many
    were decided (first answer) with an SLA clock and by its deadline; the leads recycled
    in the period and how many came back as MQLs."""

    group: str | None
    offered: int = 0
    accepted: int = 0
    rejected: int = 0
    waiting: int = 0
    decided_with_sla: int = 0
    decided_in_sla: int = 0
    recycled: int = 0
    back_as_mql: Reach = field(default_factory=Reach)

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted ÷ decided (accepted + rejected)."""
        return rate(self.accepted, self.accepted + self.rejected)

    @property
    def sla_rate(self) -> float | None:
        """Decided by the SLA deadline ÷ decided with an SLA clock."""
        return rate(self.decided_in_sla, self.decided_with_sla)

    @property
    def comeback_rate(self) -> float | None:
        """Recycled leads back as MQL by now ÷ recycled leads."""
        return rate(self.back_as_mql.by_now, self.recycled)

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {
            "group": self.group,
            "offered": self.offered,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "waiting": self.waiting,
            "acceptance_rate": self.acceptance_rate,
            "decided_with_sla": self.decided_with_sla,
            "decided_in_sla": self.decided_in_sla,
            "sla_rate": self.sla_rate,
            "recycled": self.recycled,
            "back_as_mql": self.back_as_mql.as_dict(),
            "comeback_rate": self.comeback_rate,
        }


@dataclass(frozen=True)
class ReasonRow:
    """One reject reason in one month (and group): how many rejections, and their share
    of that month's rejections in the group."""

    group: str | None
    month: str
    reason: str
    label: str | None
    count: int
    share: float

    def as_dict(self) -> dict[str, object]:
        """The row as plain values."""
        return {
            "group": self.group,
            "month": self.month,
            "reason": self.reason,
            "label": self.label,
            "count": self.count,
            "share": self.share,
        }


@dataclass(frozen=True)
class NoteRow:
    """A rep's note on a rejection of the period (free text about a person: shown only to
    those with access to the reports, never logged; gone once the person is erased)."""

    decided_at: datetime
    group: str | None
    reason: str
    campaign: str | None
    rule_version: str | None
    note: str

    def as_dict(self) -> dict[str, object]:
        """The row as plain values (the time as ISO 8601, UTC)."""
        return {
            "decided_at": self.decided_at.isoformat().replace("+00:00", "Z"),
            "group": self.group,
            "reason": self.reason,
            "campaign": self.campaign,
            "rule_version": self.rule_version,
            "note": self.note,
        }


def reason_rows(
    counted: Mapping[tuple[str | None, str, str], int],
    labels: Mapping[str, str],
    group_order: Sequence[str | None],
) -> list[ReasonRow]:
    """``counted`` (group, month, reason) → rejections as rows: by group (in
    ``group_order``), month, then the most frequent reason first; each with its share of
    the group's rejections that month."""
    totals: dict[tuple[str | None, str], int] = {}
    for (group, month, _), count in counted.items():
        totals[(group, month)] = totals.get((group, month), 0) + count
    position = {group: index for index, group in enumerate(group_order)}
    ordered = sorted(
        counted.items(),
        key=lambda item: (
            position.get(item[0][0], len(position)),
            item[0][1],
            -item[1],
            item[0][2],
        ),
    )
    return [
        ReasonRow(group, month, reason, labels.get(reason), count, count / totals[(group, month)])
        for (group, month, reason), count in ordered
    ]

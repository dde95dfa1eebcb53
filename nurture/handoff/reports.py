"""Reading handoffs: listings, one handoff in full, and why sales gives leads back, counted
per campaign and source (so marketing sees which programmes send leads sales rejects)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Handoff, HandoffAction, Lead, SalesRep


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def list_handoffs(
    session: Session,
    *,
    status: str | None = None,
    rep: SalesRep | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Handoff, Lead, SalesRep | None]]:
    """Handoffs, newest first, with their lead and owner."""
    query = (
        select(Handoff, Lead, SalesRep)
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(SalesRep, SalesRep.id == Handoff.rep_id)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status:
        query = query.where(Handoff.status == status)
    if rep is not None:
        query = query.where(Handoff.rep_id == rep.id)
    return [(h, lead, owner) for h, lead, owner in session.execute(query).all()]


def handoff_json(
    handoff: Handoff,
    lead: Lead,
    owner: SalesRep | None,
    *,
    full: bool = False,
    actions: list[HandoffAction] | None = None,
) -> dict[str, Any]:
    """The API representation of a handoff (``full`` adds the snapshot and the action log)."""
    body: dict[str, Any] = {
        "id": handoff.id,
        "status": handoff.status,
        "lead": {"id": lead.id, "email": lead.email, "name": lead.full_name, "stage": lead.stage},
        "owner": None
        if owner is None
        else {"id": owner.id, "email": owner.email, "name": owner.name},
        "needs_owner": handoff.needs_owner,
        "assignment": {
            "method": handoff.assignment_method,
            "rule": handoff.assignment_rule,
            "reason": handoff.assignment_reason,
        },
        "qualification": {
            "rule": handoff.qualification_rule,
            "readiness_version": handoff.readiness_version,
            "reasons": list(handoff.qualification_reasons or []),
            "hand_raiser": handoff.hand_raiser,
        },
        "fit_grade": handoff.fit_grade,
        "fit_score": handoff.fit_score,
        "score": handoff.score,
        "temperature": handoff.temperature,
        "campaign": handoff.campaign,
        "source": handoff.source,
        "created_at": _iso(handoff.created_at),
        "decided_at": _iso(handoff.decided_at),
        "decided_by": handoff.decided_by,
        "reject_reason": handoff.reject_reason,
        "reject_note": handoff.reject_note,
        "outcome": handoff.outcome,
        "outcome_at": _iso(handoff.outcome_at),
        "deal_value": None if handoff.deal_value is None else str(handoff.deal_value),
        "deal_currency": handoff.deal_currency,
        "lost_reason": handoff.lost_reason,
        "previous_id": handoff.previous_id,
    }
    if full:
        body["snapshot"] = handoff.snapshot
        body["actions"] = [
            {"at": _iso(a.at), "action": a.action, "actor": a.actor, "detail": a.detail}
            for a in actions or []
        ]
    return body


def handoff_actions(session: Session, handoff_id: int) -> list[HandoffAction]:
    """The handoff's log, oldest first."""
    return list(
        session.scalars(
            select(HandoffAction)
            .where(HandoffAction.handoff_id == handoff_id)
            .order_by(HandoffAction.at, HandoffAction.id)
        )
    )


@dataclass(frozen=True)
class ReasonCount:
    """How many handoffs from one campaign and source were rejected for one reason."""

    campaign: str | None
    source: str | None
    reason: str
    count: int


@dataclass(frozen=True)
class ReasonsReport:
    """Rejections by reason, per campaign and source, with the handoff totals to compare."""

    rows: list[ReasonCount]
    handed_off: dict[tuple[str | None, str | None], int]
    by_reason: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        groups: dict[tuple[str | None, str | None], dict[str, int]] = defaultdict(dict)
        for row in self.rows:
            groups[(row.campaign, row.source)][row.reason] = row.count
        keys = sorted(set(groups) | set(self.handed_off), key=lambda k: (k[0] or "", k[1] or ""))
        return {
            "total_rejected": sum(self.by_reason.values()),
            "by_reason": dict(sorted(self.by_reason.items(), key=lambda kv: -kv[1])),
            "groups": [
                {
                    "campaign": campaign,
                    "source": source,
                    "handed_off": self.handed_off.get((campaign, source), 0),
                    "rejected": sum(groups[(campaign, source)].values()),
                    "reasons": groups[(campaign, source)],
                }
                for campaign, source in keys
            ],
        }


def reasons_report(session: Session, *, since: datetime | None = None) -> ReasonsReport:
    """Reject reasons counted per campaign and source (handoffs created since ``since``).
    Reassignments are not counted as handoffs twice: only the first of a chain counts."""
    rejected = (
        select(Handoff.campaign, Handoff.source, Handoff.reject_reason, func.count())
        .where(Handoff.status == "rejected")
        .group_by(Handoff.campaign, Handoff.source, Handoff.reject_reason)
    )
    total = (
        select(Handoff.campaign, Handoff.source, func.count())
        .where(Handoff.previous_id.is_(None))
        .group_by(Handoff.campaign, Handoff.source)
    )
    if since is not None:
        rejected = rejected.where(Handoff.created_at >= since)
        total = total.where(Handoff.created_at >= since)
    rows = [ReasonCount(c, s, r or "unknown", n) for c, s, r, n in session.execute(rejected).all()]
    by_reason: dict[str, int] = defaultdict(int)
    for row in rows:
        by_reason[row.reason] += row.count
    handed = {(c, s): n for c, s, n in session.execute(total).all()}
    return ReasonsReport(rows, handed, dict(by_reason))

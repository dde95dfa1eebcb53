"""Sample handoff contexts: what template validation and ``nurture preview`` render the
handoff emails against (``meta.yaml`` ``context: handoff`` / ``handoff-reply``).

Two of each, like the lead samples: a complete one (an A-grade hand-raiser at an account
with a buying committee) and the least we may know (no owner, no account, no fit data, no
activity), so a template that prints ``handoff.account.name`` without a guard fails
validation instead of a send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nurture.handoff.notification import Words, present
from nurture.rendering import context as rendering

# When the sample notification is rendered: seven minutes after the sample hand-raise.
SAMPLE_NOW = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)

_LINKS = {
    "view_url": "https://nurture.example/handoffs/sample",
    "accept_url": "https://nurture.example/handoffs/sample/accept",
    "reject_url": "https://nurture.example/handoffs/sample/reject",
}
_REP = {
    "id": 1,
    "name": "Maria Lopez",
    "first_name": "Maria",
    "email": "maria.lopez@example.com",
    "title": "Enterprise Account Executive",
    "phone": "+1 415 555 0142",
    "timezone": "America/Los_Angeles",
    "working_hours": "Mon–Fri 08:30–17:00 (America/Los_Angeles)",
}


def sample_handoff(*, sparse: bool = False) -> dict[str, Any]:
    """The ``handoff`` variable of a notification."""
    if sparse:
        return {
            "id": 2,
            "to_manager": True,
            "links": _LINKS,
            "expires": "2026-12-15",
            "lead": {
                "id": 2,
                "name": "someone@example.org",
                "first_name": None,
                "title": None,
                "role": "unknown",
                "email": "someone@example.org",
                "phone": None,
                "timezone": "UTC",
                "local_time": "Tue 10:05 (UTC)",
                "company": None,
                "source": None,
                "campaign": None,
            },
            "account": None,
            "why": {
                "rule": "engaged-lead",
                "reasons": [],
                "hand_raiser": False,
                "hand_raised_at": None,
                "fit": {"grade": None, "score": None, "reasons": [], "missing": []},
                "score": {"value": 0.0, "temperature": "cold", "rules": []},
            },
            "timeline": [],
            "next_step": {
                "action": "Send a personal note",
                "because": "steady engagement",
                "prepare": [],
            },
            "sla": {"deadline": "within 1 business hour", "due_at": None},
            "owner": None,
            "assignment": {
                "method": "unassigned",
                "rule": None,
                "reason": "nobody available",
                "needs_owner": True,
            },
            "created_at": "2026-12-01 10:05 UTC",
        }
    return {
        "id": 1,
        "to_manager": False,
        "links": _LINKS,
        "expires": "2026-12-15",
        "lead": {
            "id": 1,
            "name": "Dana Whitfield",
            "first_name": "Dana",
            "title": "VP of Revenue Operations",
            "role": "decision maker",
            "email": "dana.whitfield@northwind.example",
            "phone": "+1 555 0100",
            "timezone": "America/Chicago",
            "local_time": "Tue 10:05 (America/Chicago)",
            "company": "Northwind Logistics",
            "source": "webinar",
            "campaign": "b2b-nurture",
        },
        "account": {
            "name": "Northwind Logistics",
            "domain": "northwind.example",
            "industry": "Logistics",
            "employees": 420,
            "annual_revenue": 85_000_000,
            "revenue_text": "85 m",
            "country": "US",
            "segment": "mid-market",
            "owner": None,
            "contacts": [
                {
                    "name": "Sam Okafor",
                    "title": "Data Engineer",
                    "email": "sam@northwind.example",
                    "role": "technical evaluator",
                    "stage": "lead",
                    "score": 18.5,
                    "temperature": "cold",
                    "last_activity": "2 days ago",
                },
            ],
            "roles_covered": ["technical evaluator"],
            "roles_missing": ["decision maker", "champion", "finance"],
        },
        "why": {
            "rule": "hand-raiser-good-fit",
            "reasons": ["asked for a demo", "fit grade A"],
            "hand_raiser": True,
            "hand_raised_at": "2026-12-01 09:58 UTC",
            "fit": {
                "grade": "A",
                "score": 82.0,
                "reasons": ["Employees 420 (≥ 200) (+20)", "Industry logistics (+15)"],
                "missing": ["budget", "timing"],
            },
            "score": {
                "value": 64.5,
                "temperature": "hot",
                "model": "B2B engagement",
                "rules": [
                    {
                        "rule": "demo-request",
                        "description": "Asked for a demo",
                        "events": 1,
                        "points": 40.0,
                        "hand_raiser": True,
                    }
                ],
            },
        },
        "timeline": [
            {
                "type": "demo.requested",
                "label": "Requested a demo",
                "detail": "form demo",
                "at": "2026-12-01 09:58 UTC",
                "ago": "7 min ago",
            },
            {
                "type": "page.viewed",
                "label": "Visited page",
                "detail": "https://www.example.com/pricing",
                "at": "2026-12-01 09:51 UTC",
                "ago": "14 min ago",
            },
        ],
        "next_step": {
            "action": "Call to book the demo, and be ready to talk pricing",
            "because": "they asked for a demo and looked at pricing",
            "prepare": ["Ask about budget, timing (not known yet)"],
        },
        "sla": {"deadline": "within 1 business hour", "due_at": None},
        "owner": _REP,
        "assignment": {
            "method": "rule",
            "rule": "territory",
            "reason": "rule territory: Maria Lopez covers US",
            "needs_owner": False,
        },
        "created_at": "2026-12-01 10:05 UTC",
    }


def sample_reply(*, sparse: bool = False) -> dict[str, Any]:
    """The ``reply`` variable of an auto-reply."""
    contact = {"name": "Example Company Sales", "email": "sales@example.com", "phone": None}
    if sparse:
        return {"rep": None, "contact": None, "when": "shortly"}
    return {"rep": _REP, "contact": contact, "when": "within the hour"}


def sample_sla_handoff(*, sparse: bool) -> dict[str, Any]:
    """Samples for template validation: a handoff with its SLA part (an escalation that
    reassigned the lead, and one where nobody else was available)."""
    handoff = present(
        sample_handoff(sparse=sparse),
        SAMPLE_NOW,
        Words(),
        details_url="https://nurture.example/leads/1",
    )
    handoff["sla"] = {
        "deadline": "Tue 1 Dec, 11:05 UTC",
        "due_at": "2026-12-01T11:05:00Z",
        "policy": "1 business hour",
        "status": "breached" if not sparse else "pending",
        "owner": None if sparse else "Maria Lopez",
        "owner_email": None if sparse else "maria.lopez@example.com",
        "reassigned_to": None if sparse else "James Carter",
        "reassigned_to_email": None if sparse else "james.carter@example.com",
        "reassign_problem": "nobody else is available" if sparse else None,
        "hours": "Mon–Fri 08:30–17:00 (America/Los_Angeles)",
    }
    return handoff


def sample_notification(*, sparse: bool = False) -> dict[str, Any]:
    """What the notification's template sees: the sample handoff as the engine presents it
    (``nurture.handoff.notification``) a few minutes after the handoff, in English."""
    words = Words()
    handoff = present(
        sample_handoff(sparse=sparse),
        SAMPLE_NOW,
        words,
        details_url="https://nurture.example/leads/1",
    )
    return {"handoff": handoff, **words.template_functions()}


def register_samples() -> None:
    """Give template validation the handoff's samples (called by ``nurture.wiring``)."""
    rendering.register_samples("handoff", lambda sparse: sample_notification(sparse=sparse))
    rendering.register_samples(
        "handoff-reply", lambda sparse: {"reply": sample_reply(sparse=sparse)}
    )
    rendering.register_samples(
        "handoff-sla", lambda sparse: {"handoff": sample_sla_handoff(sparse=sparse)}
    )

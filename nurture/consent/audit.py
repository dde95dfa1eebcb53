"""The audit log: every consent and suppression change, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.models import AuditLog


def record(
    session: Session,
    *,
    action: str,
    lead_id: int | None,
    email_hash: str | None,
    detail: Mapping[str, Any] | None,
    actor: str,
    now: datetime,
) -> AuditLog:
    """Add one audit row (``consent.granted``, ``suppression.added``, ...) and return it.

    ``detail`` must never hold an email address or an IP address: the log outlives an
    erasure, so it may only identify the person by lead id and peppered hash.
    """
    entry = AuditLog(
        at=now,
        action=action,
        lead_id=lead_id,
        email_hash=email_hash,
        detail=dict(detail or {}),
        actor=actor,
    )
    session.add(entry)
    return entry

"""Signed one-click links in handoff notifications: accept, reject, view.

A link carries, signed with the instance secret (``itsdangerous``), the handoff's random
token, the id of the rep it was sent to, and when it stops working. So a forwarded or
tampered link is refused without a query, a link sent to a rep who no longer owns the lead
(reassigned) is refused with that reason, and an old link expires. The expiry is in the
payload rather than checked against the signing time, so tests and the simulated clock
(``nurture tick --now``) see the same rule as production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadData, URLSafeSerializer

_SALT = "nurture.handoff-link"
ACTIONS = ("view", "accept", "reject")


@dataclass(frozen=True)
class LinkClaim:
    """What a verified link names."""

    token: str
    rep_id: int | None
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class HandoffLinks:
    """Signs and reads handoff links with the instance secret."""

    def __init__(self, secret_key: str, public_url: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        self._public_url = public_url.rstrip("/")

    def sign(self, token: str, rep_id: int | None, expires_at: datetime) -> str:
        """The signed path segment naming one handoff for one rep until ``expires_at``."""
        return self._serializer.dumps([token, rep_id, int(expires_at.timestamp())])

    def read(self, signed: str) -> LinkClaim | None:
        """The claim of a link, or None when it is tampered, truncated or foreign."""
        try:
            value = self._serializer.loads(signed)
        except (BadData, UnicodeError, ValueError):
            return None
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not isinstance(value[0], str)
            or not (value[1] is None or isinstance(value[1], int))
            or not isinstance(value[2], int)
        ):
            return None
        return LinkClaim(value[0], value[1], datetime.fromtimestamp(value[2], UTC))

    def urls(self, token: str, rep_id: int | None, expires_at: datetime) -> dict[str, str]:
        """``view_url``, ``accept_url`` and ``reject_url`` for one recipient."""
        signed = self.sign(token, rep_id, expires_at)
        base = f"{self._public_url}/handoffs/{signed}"
        return {"view_url": base, "accept_url": f"{base}/accept", "reject_url": f"{base}/reject"}

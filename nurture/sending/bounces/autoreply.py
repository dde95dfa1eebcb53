"""Telling automatic replies (RFC 3834: vacation, out of office) from delivery failures."""

from __future__ import annotations

import re
from email.message import Message

from nurture.sending.bounces.message import header_text


def bounce_signals(message: Message) -> bool:
    """The subject or sender says delivery failed (Auto-Submitted alone does not: RFC 3464
    bounces carry ``auto-replied`` too)."""
    subject = header_text(message, "Subject").lower()
    sender = header_text(message, "From").lower()
    return bool(
        re.search(
            r"undeliver|delivery|failure|failed|returned|bounce|not delivered|rejected|"
            r"non remis|unzustellbar|error",
            subject,
        )
        or re.search(r"mailer-daemon|postmaster|mail delivery", sender)
    )


_AUTOREPLY_SUBJECT = re.compile(
    r"out of (the )?office|auto(matic)?[ -]?(reply|response|antwort)|^auto:|vacation|"
    r"away from|abwesenheit|absence|on leave|holiday|autoreply|r[ée]ponse automatique",
    re.IGNORECASE,
)


def is_autoreply(message: Message, text: str) -> bool:
    """An RFC 3834 automatic reply (vacation, out of office), not a delivery failure."""
    auto = header_text(message, "Auto-Submitted").lower()
    subject = header_text(message, "Subject")
    if re.search(
        r"undeliver|delivery status|failure notice|returned mail|delivery fail", subject, re.I
    ):
        return False
    return (
        auto.startswith("auto-replied")
        or bool(
            message.get("X-Autoreply")
            or message.get("X-Autorespond")
            or (message.get("X-Auto-Response-Suppress") and _AUTOREPLY_SUBJECT.search(subject))
        )
        or header_text(message, "Precedence").lower() == "auto_reply"
        or bool(_AUTOREPLY_SUBJECT.search(subject))
    )

"""Mailto unsubscribes: messages sent to ``unsubscribe+<token>@domain`` (the second
address in every List-Unsubscribe header), read from an .eml file, a maildir or an mbox.

The token is the message's raw 128-bit random token; an unknown one changes nothing.
Unreadable files are reported and skipped, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from email.utils import getaddresses
from pathlib import Path

from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.privacy.unsubscribe import unsubscribe_by_token
from nurture.sending.bounces.sources import iter_messages

_TOKEN_RE = re.compile(r"^unsubscribe\+([A-Za-z0-9_-]{10,40})@", re.IGNORECASE)
_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass
class IngestReport:
    """Counts of one ingest run (no addresses: they are personal data)."""

    read: int = 0
    unsubscribed: int = 0
    unknown: int = 0
    no_token: int = 0
    problems: list[str] = field(default_factory=list)


def tokens_in(message: EmailMessage) -> set[str]:
    """Unsubscribe tokens found in the recipient headers of one email (pure)."""
    values = [str(v) for name in _ADDRESS_HEADERS for v in (message.get_all(name) or [])]
    found = set()
    for _name, address in getaddresses(values):
        match = _TOKEN_RE.match(address.strip())
        if match:
            found.add(match.group(1))
    return found


def ingest_unsubscribe_mail(runtime: Runtime, path: Path, *, now: datetime) -> IngestReport:
    """Unsubscribe the recipient named by every ``unsubscribe+<token>@`` email under
    ``path`` (one transaction per email, so one bad message never undoes the others)."""
    report = IngestReport()
    for item in iter_messages([path]):
        if item.error:
            report.problems.append(f"{item.label}: {item.error}")
            continue
        report.read += 1
        try:
            tokens = tokens_in(message_from_bytes(item.raw, policy=policy.compat32))
        except Exception as exc:  # a malformed header must not stop the ingest
            report.problems.append(f"message {report.read}: unreadable headers ({exc})")
            continue
        if not tokens:
            report.no_token += 1
            continue
        for token in tokens:
            with transaction(runtime.sessions) as session:
                found = unsubscribe_by_token(session, token, source="mailto", now=now)
            if found is None:
                report.unknown += 1
            else:
                report.unsubscribed += 1
    return report

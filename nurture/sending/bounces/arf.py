"""ARF feedback reports (RFC 5965): complaints from mailbox providers' feedback loops."""

from __future__ import annotations

import re
from email.message import Message

from nurture.sending.bounces.fields import normalise_address, unfold
from nurture.sending.bounces.message import (
    ParsedBounce,
    RecipientEvidence,
    header_text,
    original_headers,
    original_recipients,
    part_text,
)


def is_inline_arf(message: Message, human: str) -> bool:
    """A complaint that is not in a ``message/feedback-report`` part: ARF fields in the
    text, or a Microsoft JMRP report."""
    # Microsoft's JMRP complaints are not ARF: the original is attached, and it carries the
    # complainant in an X-HmXmrOriginalRecipient header.
    if any(o.get("X-HmXmrOriginalRecipient") for o in original_headers(message)):
        return True
    if is_unsubscribe_request(message):
        return True
    return bool(re.search(r"(?im)^feedback-type\s*:", human)) and bool(
        re.search(r"(?im)^(user-agent|version|original-rcpt-to|arrival-date)\s*:", human)
    )


def is_unsubscribe_request(message: Message) -> bool:
    """A mail client's one-click unsubscribe sent by email to our ``List-Unsubscribe``
    mailto address (Apple Mail marks it ``X-Apple-Unsubscribe: true``): the recipient
    opts out, which the feedback vocabulary calls an ``opt-out`` complaint."""
    return header_text(message, "X-Apple-Unsubscribe").lower() == "true"


def parse_arf(message: Message, parts: list[Message], human: str, result: ParsedBounce) -> None:
    """Read a complaint's feedback type and complainant(s) into ``result``."""
    result.kind = "arf"
    if not parts and is_unsubscribe_request(message):
        result.feedback_type = "opt-out"
        sender = normalise_address(header_text(message, "From"))
        result.recipients.append(RecipientEvidence(recipient=sender, diagnostic="opt-out"))
        return
    text = "\n\n".join(part_text(p) for p in parts) if parts else human
    fields: dict[str, list[str]] = {}
    for line in unfold(text).split("\n"):
        match = re.match(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$", line)
        if match:
            fields.setdefault(match.group(1).lower(), []).append(match.group(2).strip())
    result.feedback_type = (fields.get("feedback-type") or ["abuse"])[0].lower()
    recipients = [normalise_address(v) for v in fields.get("original-rcpt-to", [])]
    recipients = [r for r in recipients if r]
    if not recipients:
        recipients = original_recipients(message)
    if not recipients:
        for original in original_headers(message):
            address = normalise_address(header_text(original, "X-HmXmrOriginalRecipient"))
            if address:
                recipients = [address]
                break
    if not recipients:
        # Some providers' reports (e.g. Microsoft JMRP) name the complainant only in an
        # X- header of the report itself.
        for name in ("X-HmXmrOriginalRecipient", "X-Original-To", "X-Rcpt-To"):
            address = normalise_address(header_text(message, name))
            if address:
                recipients = [address]
                break
    # Providers often redact the complainant's address; the complaint still stands and
    # the ingest finds the lead through the quoted message's token or Message-ID.
    for address in dict.fromkeys(recipients or [""]):
        result.recipients.append(
            RecipientEvidence(recipient=address, diagnostic=result.feedback_type)
        )

"""Parsing bounce and complaint messages (I/O-free: bytes in, structured evidence out).

Three kinds of evidence, tried in this order, each read by its own module:

1. ARF feedback reports (RFC 5965): a ``message/feedback-report`` part (``arf``).
2. Delivery status notifications (RFC 3464): a ``message/delivery-status`` part with one
   field block per recipient (Final-Recipient, Action, Status, Diagnostic-Code) (``dsn``).
3. Free-text bounces (qmail, Exim, old Postfix, Sendmail, Exchange, webmail providers…):
   the failed addresses and the server's reply are in the human-readable text. We cut off
   the quoted original message, then look for addresses in the positions MTAs put them
   (``<a@b>:`` lines, an address alone on a line, ``RCPT TO:<a@b>``, X-Failed-Recipients)
   (``freetext``).

Amazon SES notifications forwarded as JSON are read as well (``ses``). Automatic replies
(RFC 3834: vacation, out of office) and challenge-response requests are recognised so they
are ignored rather than counted as bounces (``autoreply``).
"""

from __future__ import annotations

import re
from email.message import Message

from nurture.sending.bounces.arf import is_inline_arf, parse_arf
from nurture.sending.bounces.autoreply import bounce_signals, is_autoreply
from nurture.sending.bounces.dsn import parse_dsn, parse_dsn_text
from nurture.sending.bounces.fields import normalise_address
from nurture.sending.bounces.freetext import parse_text
from nurture.sending.bounces.message import (
    ParsedBounce,
    RecipientEvidence,
    find_original,
    header_text,
    human_text,
    load_message,
    walk_outside_originals,
)
from nurture.sending.bounces.ses import parse_ses_json


def parse_bounce(raw: bytes) -> ParsedBounce:
    """Parse one message's bytes into bounce evidence. Raises MalformedMessage when the
    bytes are not an email message."""
    message = load_message(raw)
    result = ParsedBounce(kind="unknown")
    result.bounce_message_id = header_text(message, "Message-ID").strip("<> ")
    result.subject = header_text(message, "Subject")
    find_original(message, result)

    parts = list(message.walk())
    # A bounce of a bounce attaches the earlier report: only the outer one is ours.
    outer = list(walk_outside_originals(message))
    feedback = [p for p in parts if p.get_content_type() == "message/feedback-report"]
    status_parts = [
        p
        for p in outer
        if p.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
    ]
    human = human_text(message)
    result.context = human
    if feedback or is_inline_arf(message, human):
        parse_arf(message, feedback, human, result)
        return result
    if status_parts:
        parse_dsn(status_parts, human, result)
    # Some MTAs paste the DSN fields into the text body instead of a proper part.
    if (
        not result.recipients
        and re.search(r"(?im)^\s*final-recipient\s*:", human)
        and re.search(r"(?im)^\s*(status|action)\s*:", human)
    ):
        parse_dsn_text(human, human, result)
    if not result.recipients and parse_ses_json(human, result):
        return result
    if not result.recipients and is_autoreply(message, human) and not bounce_signals(message):
        result.kind = "autoreply"
        sender = normalise_address(header_text(message, "From"))
        result.recipients.append(RecipientEvidence(recipient=sender))
        return result
    if not result.recipients:
        parse_text(message, human, result)
    if result.kind == "text" and not any(r.status or r.reply_code for r in result.recipients):
        _read_forwarded_report(message, result)
    if not result.recipients and is_autoreply(message, human):
        result.kind = "autoreply"
        sender = normalise_address(header_text(message, "From"))
        if sender:
            result.recipients.append(RecipientEvidence(recipient=sender))
    return result


def _read_forwarded_report(message: Message, result: ParsedBounce) -> None:
    """A relay's notice that names no reason but attaches the delivery report it got (a
    forwarded bounce): the attached report is the evidence."""
    for part in message.walk():
        if part.get_content_type() != "message/rfc822":
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message) or inner.get_content_type() != "multipart/report":
            continue
        forwarded = parse_bounce(inner.as_bytes())
        if forwarded.kind == "dsn" and forwarded.recipients:
            result.kind = "dsn"
            result.recipients = forwarded.recipients
            return

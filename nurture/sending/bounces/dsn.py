"""Delivery status notifications (RFC 3464): one field block per recipient (Final-Recipient,
Action, Status, Diagnostic-Code)."""

from __future__ import annotations

import re
from email.message import Message

from nurture.sending.bounces.fields import (
    field_blocks,
    find_reply_code,
    find_status,
    normalise_address,
)
from nurture.sending.bounces.message import (
    ParsedBounce,
    RecipientEvidence,
    part_text,
    report_part,
)


def parse_dsn(parts: list[Message], human: str, result: ParsedBounce) -> None:
    """Read the ``message/delivery-status`` parts of a DSN into ``result``."""
    text = "\n\n".join(part_text(p) for p in parts)
    parse_dsn_text(text, human, result)


def parse_dsn_text(text: str, human: str, result: ParsedBounce) -> None:
    """Read DSN field blocks from ``text`` into ``result``, one evidence per recipient; the
    human-readable ``human`` supplies the server's reply when the fields lack it."""
    blocks = field_blocks(text)
    per_message = blocks[0] if blocks and "reporting-mta" in blocks[0] else {}
    found: dict[str, RecipientEvidence] = {}
    for block in blocks:
        address = (
            normalise_address(block.get("final-recipient", ""))
            or normalise_address(block.get("original-recipient", ""))
            or normalise_address(block.get("x-actual-recipient", ""))
        )
        if not address:
            continue
        action = block.get("action", "").lower().split()[0] if block.get("action") else ""
        if action in ("relayed", "expanded"):
            continue
        diagnostic = block.get("diagnostic-code", "")
        # X-Unix diagnostics carry a program's exit status, not an SMTP reply code.
        exit_status = bool(re.match(r"\s*x-unix\s*;", diagnostic, re.I))
        diagnostic = re.sub(r"^\s*(smtp|x-\S+|mta|x400|unknown)\s*;\s*", "", diagnostic, flags=re.I)
        evidence = RecipientEvidence(recipient=address, action=action, diagnostic=diagnostic)
        declared = find_status(block.get("status", ""))
        in_text = find_status(diagnostic)
        # The remote server's own code (in the diagnostic) is more precise than the
        # reporting MTA's summary in Status (often 4.4.7 "expired" or a generic 5.0.0).
        evidence.status = in_text or declared
        evidence.reply_code = "" if exit_status else find_reply_code(diagnostic)
        if address in found:
            continue
        found[address] = evidence
    if not found:
        return
    result.kind = "dsn"
    result.recipients = list(found.values())
    # Without a diagnostic, the human part is the only place the server's reply can be.
    addresses = [evidence.recipient for evidence in result.recipients]
    for evidence in result.recipients:
        if evidence.status.endswith(".4.7"):
            # The queue gave up; the human part often quotes the remote server's reply
            # to the last attempt, which says why.
            attempt = find_status(_snippet_for(human, evidence.recipient, False, addresses))
            if attempt and attempt[0] == evidence.status[0] and not attempt.endswith(".0"):
                evidence.status = attempt
        if not evidence.diagnostic or not (evidence.reply_code or find_status(evidence.diagnostic)):
            snippet = _snippet_for(
                human, evidence.recipient, len(result.recipients) == 1, addresses
            )
            if snippet:
                evidence.diagnostic = f"{evidence.diagnostic} {snippet}".strip()
                evidence.reply_code = evidence.reply_code or find_reply_code(snippet)
                if not evidence.status or evidence.status.endswith(".0.0"):
                    evidence.status = find_status(snippet) or evidence.status
    del per_message


def _snippet_for(human: str, address: str, only: bool, addresses: list[str]) -> str:
    """The human report's text about one recipient: from its address to the next
    recipient's (at most 800 characters)."""
    report = report_part(human)
    lowered = report.lower()
    index = lowered.find(address.lower())
    if index < 0:
        return report.strip()[:2000] if only else ""
    end = index + 800
    for other in addresses:
        later = lowered.find(other.lower(), index + len(address))
        if other.lower() != address.lower() and later >= 0:
            end = min(end, later)
    return report[index:end]

"""Free-text bounces (qmail, Exim, old Postfix, Sendmail, Exchange, webmail providers…).

The failed addresses and the server's reply are in the human-readable text. The quoted
original message is cut off first, then addresses are looked for in the positions MTAs put
them (``<a@b>:`` lines, an address alone on a line, ``RCPT TO:<a@b>``, X-Failed-Recipients).
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from nurture.sending.bounces.autoreply import bounce_signals, is_autoreply
from nurture.sending.bounces.fields import (
    ADDRESS,
    find_reply_code,
    find_status,
    normalise_address,
)
from nurture.sending.bounces.message import (
    ParsedBounce,
    RecipientEvidence,
    header_text,
    original_recipients,
    report_part,
)

_MAILER_LOCALPARTS = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mailerdaemon|bounces?|"
    r"bounce-\S*|noreply|no-reply|root|abuse|daemon|mdaemon|double-bounce)$",
    re.IGNORECASE,
)


def parse_text(message: Message, human: str, result: ParsedBounce) -> None:
    """Find the failed recipients of a free-text bounce, each with the status and reply
    code of the text that concerns it."""
    report = report_part(human)
    excluded = _excluded_addresses(message)
    candidates = _addresses_in_report(report, excluded)
    failed_header = [
        normalise_address(a)
        for a in re.split(r"[,\s]+", header_text(message, "X-Failed-Recipients"))
    ]
    failed_header = [a for a in failed_header if a]
    if failed_header:
        candidates = [(a, report.lower().find(a.lower())) for a in dict.fromkeys(failed_header)]
    if not candidates and _looks_like_bounce(message, report):
        candidates = [(a, -1) for a in original_recipients(message)]
    if not candidates:
        return
    result.kind = "text"
    lowered = report.lower()
    for address, start in candidates:
        if start >= 0:
            # The block ends where another recipient is named (some MTAs repeat the
            # list, e.g. once per language, so look past each one's first mention).
            later = [
                lowered.find(other.lower(), start + len(address))
                for other, _ in candidates
                if other.lower() != address.lower()
            ]
            end = min([p for p in later if p > start] or [len(report)])
            # Many MTAs put the reason before the address ("... failed:\n  addr"); keep
            # the line before too when the block after it says nothing.
            diagnostic = report[start:end]
            if not (find_status(diagnostic) or find_reply_code(diagnostic)) or len(candidates) == 1:
                diagnostic = report if len(candidates) == 1 else diagnostic
        else:
            diagnostic = report
        status = find_status(diagnostic)
        reply = find_reply_code(diagnostic)
        result.recipients.append(
            RecipientEvidence(
                recipient=address,
                status=status,
                reply_code=reply,
                diagnostic=diagnostic.strip()[:4000],
            )
        )


def _excluded_addresses(message: Message) -> set[str]:
    """Addresses that are never the failed recipient: the bounce's own sender and
    recipient (our envelope sender) and mailer/postmaster addresses."""
    excluded: set[str] = set()
    for name in ("From", "To", "Return-Path", "Sender", "Reply-To", "Delivered-To", "Errors-To"):
        for _, address in getaddresses([header_text(message, name)]):
            normalised = normalise_address(address)
            if normalised:
                excluded.add(normalised.lower())
    return excluded


def _usable(address: str, excluded: set[str]) -> bool:
    local, _, domain = address.rpartition("@")
    if address.lower() in excluded or _MAILER_LOCALPARTS.match(local):
        return False
    # Message-IDs and host names look like addresses: require a dotted domain and a
    # local part that is not a long random token.
    return "." in domain and not re.fullmatch(r"[0-9a-f]{16,}|[0-9.]+\.[0-9.]+", local, re.I)


_STRONG_POSITIONS = [
    r"^[ \t]*<([^<>\s]+@[^<>\s]+)>[ \t]*:",  # qmail, old Postfix: "<a@b>:"
    r"^[ \t*>•-]*[<\"]?([^<>\s:\"']+@[^<>\s:\"']+?)[>\"]?[ \t]*:?[ \t]*$",  # alone on a line
    r"^[ \t*>•-]*[<\"]?([^<>\s:\"']+@[^<>\s:\"']+?)[>\"]?[ \t]*(?:[:(\[]|\.\.\.)",  # "a@b: why"
    r"^[ \t]*[45]\d\d[ -]<([^<>\s]+@[^<>\s]+)>\.\.\.",  # Sendmail transcript: "550 <a@b>... why"
    # Exchange: "a@b on Thu, 29 Apr 2007 16:51:51 -0500" under "did not reach …"
    r"^[ \t]*([^<>\s:\"']+@[^<>\s:\"']+?)[ \t]+on[ \t]+\w{3},? ",
    r"rcpt to:?\s*<?([^<>\s]+@[^<>\s]+?)>?(?:\s|$)",  # "... after RCPT TO:<a@b>"
]
_WEAK_POSITIONS = [
    r"\b(?:recipient|addressee|address|to|user|mailbox|account)(?:\s+address(?:es)?)?"
    r"\s*[:=]?\s*<?\"?(?<![\w.+-])([^<>\s\"',;]+@[^<>\s\"',;]+?)\"?>?(?:[\s,;:)]|\.?$)",
    r"<([^<>\s]+@[^<>\s]+)>",
    ADDRESS.pattern.join("()"),
]


def _addresses_in_report(report: str, excluded: set[str]) -> list[tuple[str, int]]:
    """Failed-recipient candidates with their position in the report.

    Positions MTAs reserve for the failed address (a line of its own, ``<a@b>:``) are
    trusted even when the address is also the bounce's To (test and forwarding setups
    bounce to themselves); anywhere else the bounce's own addresses are skipped.
    """
    for patterns, skip in ((_STRONG_POSITIONS, set()), (_WEAK_POSITIONS, excluded)):
        found: dict[str, int] = {}
        for pattern in patterns:
            for match in re.finditer(pattern, report, re.IGNORECASE | re.MULTILINE):
                address = normalise_address(match.group(1))
                if address and _usable(address, skip) and address not in found:
                    found[address] = match.start(1)
            if found:
                return sorted(found.items(), key=lambda item: item[1])
    return []


def _looks_like_bounce(message: Message, report: str) -> bool:
    return bounce_signals(message) and not is_autoreply(message, report)

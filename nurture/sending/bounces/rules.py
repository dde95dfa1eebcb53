"""Bounce classification rules (pure): status code and server text → reason → decision.

The reason vocabulary is the one the sisimai project uses and documents (``userunknown``,
``mailboxfull``, ``blocked``, …): it is the most complete public taxonomy of why mail
bounces, and reusing it lets the corpus oracle be compared reason by reason. Each reason
maps to one of five decisions the ingest acts on.

Why regular expressions: bounce bodies are free text written by hundreds of MTAs; RFC 3463
codes are missing or generic (5.0.0, 5.7.1) in a large share of real bounces, so the text is
the only evidence left. The patterns (``wordings.py``) are the phrases MTAs use for each
condition, not per-message special cases. (Libraries checked: ``flufl.bounce`` only returns
addresses, without codes or reasons, and handles no ARF; no maintained Python port of
sisimai exists.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nurture.sending.bounces.wordings import COMPILED

SUPPRESS = "suppress"
RETRY = "retry"
COMPLAINT = "complaint"
IGNORE = "ignore"
SENDER_ISSUE = "sender_issue"
DECISIONS = (SUPPRESS, RETRY, COMPLAINT, IGNORE, SENDER_ISSUE)

# The address itself is gone: mailing it again can only hurt the sender's reputation.
_HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
# The receiving side refused *us* (our IP, domain, authentication, content, rate): the lead
# is not at fault and suppressing it would hide a problem the operator must fix.
_SENDER_REASONS = frozenset(
    {
        "blocked",
        "requireptr",
        "authfailure",
        "badreputation",
        "policyviolation",
        "spamdetected",
        "securityerror",
        "norelaying",
        "notcompliantrfc",
        "speeding",
        "contenterror",
        "virusdetected",
        "rejected",
        "syntaxerror",
        "mesgtoobig",
        "exceedlimit",
        "toomanyconn",
    }
)
_IGNORED_REASONS = frozenset({"vacation", "delivered", "challenge"})

_HUMAN = {
    "userunknown": "the mailbox does not exist",
    "hostunknown": "the recipient's domain does not exist or accepts no mail",
    "hasmoved": "the person has moved to another address",
    "notaccept": "the recipient's domain accepts no mail",
    "mailboxfull": "the mailbox is full",
    "suspend": "the mailbox is disabled or suspended",
    "expired": "delivery gave up after retrying for too long",
    "filtered": "a filter at the recipient's side refused the message",
    "systemerror": "the receiving server had an error",
    "systemfull": "the receiving server is out of storage",
    "networkerror": "a network or DNS problem prevented delivery",
    "mailererror": "the recipient's mail program failed",
    "onhold": "the server reported a failure without a clear cause",
    "undefined": "the server reported a failure without a clear cause",
    "blocked": "the receiving server blocked our sending IP or domain",
    "requireptr": "our sending IP has no valid reverse DNS (PTR) record",
    "authfailure": "SPF, DKIM or DMARC authentication of our mail failed",
    "badreputation": "the receiver distrusts our sending IP or domain's reputation",
    "policyviolation": "the message violated the receiver's policy",
    "spamdetected": "the message was judged to be spam",
    "securityerror": "a security or authentication requirement was not met",
    "norelaying": "the server refused to relay for us",
    "notcompliantrfc": "the message does not comply with the RFCs",
    "speeding": "we sent too fast: rate limited",
    "contenterror": "the message content was refused",
    "virusdetected": "the message was judged to contain a virus",
    "rejected": "our envelope sender address was refused",
    "syntaxerror": "an SMTP syntax error on our side",
    "mesgtoobig": "the message is too big",
    "exceedlimit": "the message exceeds a limit of the recipient",
    "toomanyconn": "too many connections from our side",
    "feedback": "the recipient reported the message as spam (complaint)",
    "vacation": "an automatic reply (vacation, out of office), not a bounce",
    "delivered": "a delivery report of success, not a bounce",
    "challenge": "a challenge-response request, not a bounce",
}


def decide(reason: str, status: str = "") -> str:
    """The decision for a reason; a temporary (4.x.x) failure is never suppressed at once."""
    if reason == "feedback":
        return COMPLAINT
    if reason in _IGNORED_REASONS:
        return IGNORE
    if reason in _SENDER_REASONS:
        return SENDER_ISSUE
    if reason in _HARD_REASONS and not status.startswith("4"):
        return SUPPRESS
    return RETRY


def describe(reason: str) -> str:
    """A human sentence for a reason."""
    return _HUMAN.get(reason, "the server reported a failure without a clear cause")


# Enhanced status codes (RFC 3463 and IANA registry) whose meaning settles the reason on
# their own. Generic ones (X.0.0, 5.7.1, 5.5.x, …) are left to the server's text.
_CODE_REASONS: dict[str, str] = {
    "1.1": "userunknown",
    "1.0": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.10": "userunknown",
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "exceedlimit",
    "2.4": "systemerror",
    "3.0": "systemerror",
    "3.1": "systemfull",
    "3.2": "notaccept",
    "3.4": "mesgtoobig",
    "3.5": "systemerror",
    "4.1": "networkerror",
    "4.2": "networkerror",
    "4.3": "systemerror",
    "4.4": "hostunknown",
    "4.6": "networkerror",
    "4.7": "expired",
    "5.3": "syntaxerror",
    "5.4": "syntaxerror",
    "6.0": "contenterror",
    "7.7": "securityerror",
    "7.9": "securityerror",
    "7.13": "suspend",
    "7.23": "authfailure",
    "7.24": "authfailure",
    "7.25": "requireptr",
    "7.26": "authfailure",
    "7.27": "notaccept",
}


# A status code whose meaning is unambiguous beats the text; for these the text of some
# MTAs is known to say something looser (e.g. "mailbox unavailable" for a full mailbox).
_CODE_FIRST = frozenset(
    {
        "2.2",
        "1.6",
        "1.7",
        "1.8",
        "7.25",
        "7.26",
        "7.23",
        "7.24",
        "3.4",
        "4.7",
        "7.13",
        "7.27",
        "1.10",
    }
)


# Postfix prefixes every recipient restriction's refusal with this: the reason is the text
# that follows ("Recipient address rejected: Mailbox full"), not the prefix itself.
# (Microsoft's "Recipient address rejected: Access denied" is its own wording for a
# recipient its directory does not know, and stays whole.)
_RESTRICTION_PREFIX = re.compile(
    r"\brecipient address rejected\s*:\s*(?!\s*access denied)", re.IGNORECASE
)


def reason_from_text(text: str) -> str | None:
    """The reason the first matching phrase points to, or None."""
    text = _RESTRICTION_PREFIX.sub("", text)
    for reason, pattern in COMPILED:
        if pattern.search(text):
            return reason
    return None


def reason_from_code(status: str) -> str | None:
    """The reason an enhanced status code settles on its own, or None when generic."""
    parts = status.split(".")
    if len(parts) != 3:
        return None
    return _CODE_REASONS.get(f"{parts[1]}.{parts[2]}")


@dataclass(frozen=True)
class Verdict:
    """A classified failure: the reason name, the decision and a human sentence."""

    reason: str
    decision: str
    human: str


# How delay notices and warnings say the MTA is still trying (Sendmail, Exim, Postfix,
# OpenSMTPD, Exchange): whatever they quote, nothing has failed for good yet.
_DELAY_NOTICE = re.compile(
    r"this is a warning message only|do not need to re-?send|has not yet been delivered|"
    r"only a temporary failure|will (keep|continue) (trying|to try|retrying)|"
    r"delivery (has been |is )?delayed|still (be )?(trying|retrying)",
    re.IGNORECASE,
)


def is_delay_notice(text: str) -> bool:
    """Whether a report's text says delivery is only delayed (a warning, not a bounce)."""
    return bool(_DELAY_NOTICE.search(text))


def classify(
    status: str, reply_code: str, text: str, command: str = "", delayed: bool = False
) -> Verdict:
    """Classify one failed recipient from its status code, SMTP reply code, the server's
    text (diagnostic) and the SMTP command it answered. ``delayed``: the report is a delay
    notice or warning (the MTA keeps trying), so the failure is temporary whatever code it
    quotes. Pure: the same inputs give the same verdict."""
    by_code = reason_from_code(status)
    subject = ".".join(status.split(".")[1:])
    by_text = reason_from_text(text)
    reason: str | None
    if by_code is not None and subject in _CODE_FIRST:
        reason = by_code
    elif subject == "1.1" and by_text not in _SENDER_REASONS:
        # X.1.1 is "bad destination mailbox": it settles that the mailbox is gone against
        # looser recipient-side wording (full, filtered, mailer error); only a text that
        # names a refusal of the sender (a rate limit, a block) outranks it.
        reason = by_code
    else:
        reason = by_text or by_code
    if reason is None:
        reason = _reason_from_class(status, reply_code)
    if command == "DATA" and reason == "userunknown" and by_code != "userunknown":
        # The server accepted the recipient at RCPT and refused only the content: a
        # filter, not a missing mailbox.
        reason = "filtered"
    elif command == "MAIL" and reason in ("userunknown", "hostunknown", "undefined", "filtered"):
        # A refusal of MAIL FROM is about our envelope sender, not the recipient.
        reason = "rejected"
    elif reason == "userunknown" and status[1:4] == ".7.":
        # X.7.x is a security or policy refusal (RFC 3463): a "user unknown" under a
        # policy code is the server's filter talking, not proof the mailbox is gone.
        reason = "filtered"
    temporary = delayed or is_delay_notice(text)
    return Verdict(
        reason=reason,
        decision=decide(reason, "4" if temporary else status or reply_code),
        human=describe(reason),
    )


_ENHANCED_STATUS = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
# How the SMTP transport words a refusal before the server's text ("RCPT TO refused: …").
_REFUSED_PREFIX = re.compile(r"^[A-Za-z ]{1,20} refused: ")


def classify_smtp_reply(reply_code: int, reply: str, command: str) -> Verdict:
    """Classify a refusal the SMTP server gave while we were sending (``command``: MAIL,
    RCPT or DATA) by the same rules as a bounce report, so one rule decides whether the
    mailbox is gone (suppress), the sender was refused (sender issue) or neither."""
    text = _REFUSED_PREFIX.sub("", reply, count=1)
    match = _ENHANCED_STATUS.search(text)
    return classify(match.group(0) if match else "", str(reply_code), text, command)


def _reason_from_class(status: str, reply_code: str) -> str:
    """Fallback when neither a specific code nor a phrase says anything."""
    if status.startswith("5.7") or reply_code == "554":
        return "blocked"
    if status.startswith("4") or reply_code.startswith("4"):
        return "systemerror"
    if reply_code in {"550", "553"}:
        return "userunknown"
    if reply_code in {"500", "501", "502", "503", "504"}:
        # RFC 5321: syntax error, unrecognised command or parameter, bad sequence.
        return "syntaxerror"
    if reply_code == "552":
        return "mailboxfull"
    return "undefined"

"""Parsing bounce and complaint messages (I/O-free: bytes in, structured evidence out).

Three kinds of evidence, tried in this order:

1. ARF feedback reports (RFC 5965): a ``message/feedback-report`` part.
2. Delivery status notifications (RFC 3464): a ``message/delivery-status`` part with one
   field block per recipient (Final-Recipient, Action, Status, Diagnostic-Code).
3. Free-text bounces (qmail, Exim, old Postfix, Sendmail, Exchange, webmail providers…):
   the failed addresses and the server's reply are in the human-readable text. We cut off
   the quoted original message, then look for addresses in the positions MTAs put them
   (``<a@b>:`` lines, an address alone on a line, ``RCPT TO:<a@b>``, X-Failed-Recipients).

Automatic replies (RFC 3834: vacation, out of office) and challenge-response requests are
recognised so they are ignored rather than counted as bounces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses

ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# An RFC 3463 enhanced status code; the look-arounds keep it out of IP addresses and
# version numbers ("10.5.1.1", "2.6.32").
STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]|\.\d)")
# An SMTP reply code where MTAs quote one: followed by a space, a dash (continuation
# line) or an enhanced code, and not inside a longer number.
REPLY = re.compile(
    r"(?<![\w.#:/-])([245][0-7]\d)(?:[ -](?!\w*(?:bytes|days|hours|minutes))|$)", re.M
)

# Lines that start the quoted original message in free-text bounces; everything below is
# the sender's own mail, whose addresses are not failed recipients.
_ORIGINAL_MARKERS = re.compile(
    r"^[ \t>]*(?:-{2,}.{0,20}(?:original message|copy of|returned message|message (?:headers|"
    r"text)|undelivered message|headers? (?:of|follow))|-{2,} ?(?:below this line|the header)"
    r"|(?:-+ *)?(?:original|returned|undelivered) message (?:follows|headers?|text|below)"
    r"|\s*-+\s*original message\s*-+|below this line is a copy|the (?:original |header of "
    r"the )?(?:message|original message)(?:'s headers)? (?:follows|is attached|headers are)"
    r"|this is a copy of the message|(?:^|\n)received: from )",
    re.IGNORECASE | re.MULTILINE,
)
_MAILER_LOCALPARTS = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mailerdaemon|bounces?|"
    r"bounce-\S*|noreply|no-reply|root|abuse|daemon|mdaemon|double-bounce)$",
    re.IGNORECASE,
)


@dataclass
class RecipientEvidence:
    """What a bounce says about one recipient."""

    recipient: str
    status: str = ""
    reply_code: str = ""
    diagnostic: str = ""
    action: str = ""


@dataclass
class ParsedBounce:
    """Everything the parser found in one message."""

    kind: str  # "arf" | "dsn" | "text" | "autoreply" | "unknown"
    recipients: list[RecipientEvidence] = field(default_factory=list)
    feedback_type: str = ""
    original_message_id: str = ""
    nurture_token: str = ""
    bounce_message_id: str = ""
    subject: str = ""
    context: str = ""  # the human-readable report text, for classification


class MalformedMessage(ValueError):
    """The bytes are not an email message at all."""


def load_message(raw: bytes) -> Message:
    """Parse bytes as an email message (compat32 policy: lenient with real-world junk)."""
    if not raw or not raw.strip():
        raise MalformedMessage("empty file")
    message = BytesParser(policy=policy.compat32).parsebytes(raw)
    if not message.keys():
        raise MalformedMessage("no email headers found")
    return message


def header_text(message: Message, name: str) -> str:
    """A header decoded to text (RFC 2047), unfolded; empty when absent or undecodable."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except Exception:
        text = str(value)
    return " ".join(text.split())


def part_text(part: Message) -> str:
    """The decoded text of a non-multipart part (HTML reduced to text)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        if isinstance(inner, list):
            return "\n\n".join(
                _message_fields_text(sub) for sub in inner if isinstance(sub, Message)
            )
        return inner if isinstance(inner, str) else ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:
        text = payload.decode("latin-1", errors="replace")
    if part.get_content_type() == "text/html":
        text = _html_to_text(text)
    return text.replace("\r\n", "\n")


def _html_to_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style).*?</\1>", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", html)
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&nbsp;", " "),
        ("&amp;", "&"),
        ("&quot;", '"'),
    ):
        text = text.replace(entity, char)
    return text


def _message_fields_text(message: Message) -> str:
    return "\n".join(f"{name}: {value}" for name, value in message.items())


def unfold(text: str) -> str:
    """Join RFC 5322 continuation lines."""
    return re.sub(r"\r?\n[ \t]+", " ", text)


def field_blocks(text: str) -> list[dict[str, str]]:
    """``Name: value`` field blocks separated by blank lines (names lower-cased)."""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", unfold(text.replace("\r\n", "\n"))):
        fields: dict[str, str] = {}
        for line in chunk.split("\n"):
            match = re.match(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$", line.strip())
            if match:
                fields.setdefault(match.group(1).lower(), match.group(2).strip())
        if fields:
            blocks.append(fields)
    return blocks


def normalise_address(value: str) -> str:
    """``rfc822; <A@B.example>`` → ``A@b.example`` (domain lower-cased); empty if none."""
    value = value.split(";", 1)[1] if ";" in value and "@" in value.split(";", 1)[1] else value
    match = ADDRESS.search(value.replace("<", " ").replace(">", " "))
    if not match:
        return ""
    address = match.group(0).strip(".")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def find_status(text: str) -> str:
    """The most specific enhanced status code in a text ('' when none)."""
    codes = [".".join(m.groups()) for m in STATUS.finditer(text)]
    if not codes:
        return ""
    # X.Y.0 ("other") is the least specific code of its kind.
    specific = [code for code in codes if not code.endswith(".0")]
    return specific[0] if specific else codes[0]


_COMMAND = re.compile(
    r"(?:in reply to|after|for|during|smtp command:?|command)\s+(?:end of\s+)?(?:the\s+)?"
    r"(DATA|MAIL FROM|RCPT TO|RCPT|HELO|EHLO|TEXT)\b|^\s*>>>\s*(DATA|MAIL FROM|RCPT TO|HELO|EHLO)",
    re.IGNORECASE | re.MULTILINE,
)


def find_smtp_command(text: str) -> str:
    """The SMTP command the failure answered (``DATA``, ``RCPT``, ``MAIL``), or ''.

    It matters: a server that rejects "user unknown" only after DATA had accepted the
    recipient, so the refusal is a filter's, not proof the mailbox is gone.
    """
    commands = [(m.group(1) or m.group(2)).upper() for m in _COMMAND.finditer(text)]
    if not commands:
        return ""
    last = commands[-1]
    if last in ("DATA", "TEXT"):
        return "DATA"
    return last.split()[0]


def find_reply_code(text: str) -> str:
    """The first SMTP reply code in a text ('' when none)."""
    match = REPLY.search(text)
    return match.group(1) if match else ""


# -- the three kinds of evidence -------------------------------------------------------


def parse_bounce(raw: bytes) -> ParsedBounce:
    """Parse one message's bytes into bounce evidence. Raises MalformedMessage when the
    bytes are not an email message."""
    message = load_message(raw)
    result = ParsedBounce(kind="unknown")
    result.bounce_message_id = header_text(message, "Message-ID").strip("<> ")
    result.subject = header_text(message, "Subject")
    _find_original(message, result)

    parts = list(message.walk())
    feedback = [p for p in parts if p.get_content_type() == "message/feedback-report"]
    status_parts = [
        p
        for p in parts
        if p.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
    ]
    human = _human_text(message)
    result.context = human
    if feedback or _is_inline_arf(message, human):
        _parse_arf(message, feedback, human, result)
        return result
    if status_parts:
        _parse_dsn(status_parts, human, result)
    # Some MTAs paste the DSN fields into the text body instead of a proper part.
    if (
        not result.recipients
        and re.search(r"(?im)^\s*final-recipient\s*:", human)
        and re.search(r"(?im)^\s*(status|action)\s*:", human)
    ):
        _parse_dsn_text(human, human, result)
    if not result.recipients and _parse_ses_json(human, result):
        return result
    if not result.recipients and is_autoreply(message, human) and not _bounce_signals(message):
        result.kind = "autoreply"
        sender = normalise_address(header_text(message, "From"))
        result.recipients.append(RecipientEvidence(recipient=sender))
        return result
    if not result.recipients:
        _parse_text(message, human, result)
    if not result.recipients and is_autoreply(message, human):
        result.kind = "autoreply"
        sender = normalise_address(header_text(message, "From"))
        if sender:
            result.recipients.append(RecipientEvidence(recipient=sender))
    return result


def _is_inline_arf(message: Message, human: str) -> bool:
    # Microsoft's JMRP complaints are not ARF: the original is attached, and it carries the
    # complainant in an X-HmXmrOriginalRecipient header.
    if any(o.get("X-HmXmrOriginalRecipient") for o in _original_headers(message)):
        return True
    return bool(re.search(r"(?im)^feedback-type\s*:", human)) and bool(
        re.search(r"(?im)^(user-agent|version|original-rcpt-to|arrival-date)\s*:", human)
    )


def _parse_arf(message: Message, parts: list[Message], human: str, result: ParsedBounce) -> None:
    result.kind = "arf"
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
        recipients = _original_recipients(message)
    if not recipients:
        for original in _original_headers(message):
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


def _parse_dsn(parts: list[Message], human: str, result: ParsedBounce) -> None:
    text = "\n\n".join(part_text(p) for p in parts)
    _parse_dsn_text(text, human, result)


def _parse_dsn_text(text: str, human: str, result: ParsedBounce) -> None:
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
        diagnostic = re.sub(r"^\s*(smtp|x-\S+|mta|x400|unknown)\s*;\s*", "", diagnostic, flags=re.I)
        evidence = RecipientEvidence(recipient=address, action=action, diagnostic=diagnostic)
        declared = find_status(block.get("status", ""))
        in_text = find_status(diagnostic)
        # The remote server's own code (in the diagnostic) is more precise than the
        # reporting MTA's summary in Status (often 4.4.7 "expired" or a generic 5.0.0).
        evidence.status = in_text or declared
        evidence.reply_code = find_reply_code(diagnostic)
        if address in found:
            continue
        found[address] = evidence
    if not found:
        return
    result.kind = "dsn"
    result.recipients = list(found.values())
    # Without a diagnostic, the human part is the only place the server's reply can be.
    for evidence in result.recipients:
        if not evidence.diagnostic or not (evidence.reply_code or find_status(evidence.diagnostic)):
            snippet = _snippet_for(human, evidence.recipient, len(result.recipients) == 1)
            if snippet:
                evidence.diagnostic = f"{evidence.diagnostic} {snippet}".strip()
                evidence.reply_code = evidence.reply_code or find_reply_code(snippet)
                if not evidence.status or evidence.status.endswith(".0.0"):
                    evidence.status = find_status(snippet) or evidence.status
    del per_message


def _report_part(human: str) -> str:
    """The human report without the quoted original message."""
    match = _ORIGINAL_MARKERS.search(human)
    return human[: match.start()] if match and match.start() > 0 else human


def _snippet_for(human: str, address: str, only: bool) -> str:
    report = _report_part(human)
    index = report.lower().find(address.lower())
    if index < 0:
        return report.strip()[:2000] if only else ""
    return report[index : index + 800]


def _parse_text(message: Message, human: str, result: ParsedBounce) -> None:
    report = _report_part(human)
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
        candidates = [(a, -1) for a in _original_recipients(message)]
    if not candidates:
        return
    result.kind = "text"
    positions = sorted(p for _, p in candidates if p >= 0)
    for address, start in candidates:
        if start >= 0:
            later = [p for p in positions if p > start]
            end = later[0] if later else len(report)
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
    r"^[ \t*>•-]*<?([^<>\s:\"']+@[^<>\s:\"']+?)>?[ \t]*:?[ \t]*$",  # alone on a line
    r"^[ \t*>•-]*<?([^<>\s:\"']+@[^<>\s:\"']+?)>?[ \t]*(?:[:(\[]|\.\.\.)",  # "a@b: why"
    r"rcpt to:?\s*<([^<>\s]+@[^<>\s]+)>",  # Exim: "... after RCPT TO:<a@b>"
]
_WEAK_POSITIONS = [
    r"\b(?:recipient|addressee|address|to|user|mailbox|account)(?:\s+address(?:es)?)?"
    r"\s*[:=]?\s*<?\"?([^<>\s\"',;]+@[^<>\s\"',;]+?)\"?>?(?:[\s,;:)]|\.?$)",
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


def _bounce_signals(message: Message) -> bool:
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


def _looks_like_bounce(message: Message, report: str) -> bool:
    return _bounce_signals(message) and not is_autoreply(message, report)


def _parse_ses_json(text: str, result: ParsedBounce) -> bool:
    """Amazon SES notifications (bounce, complaint, delivery) forwarded by e-mail as JSON."""
    stripped = text.strip()
    if not stripped.startswith("{") or "notificationType" not in stripped:
        return False
    body = stripped[: stripped.rfind("}") + 1]
    try:
        try:
            data = json.loads(body)
        except ValueError:
            # Mail transport wraps long lines; inside JSON strings that is noise.
            data = json.loads(body.replace("\r", "").replace("\n", ""))
        if isinstance(data.get("Message"), str):  # wrapped in an SNS envelope
            data = json.loads(data["Message"])
    except (ValueError, AttributeError):
        return False
    if not isinstance(data, dict):
        return False
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    if kind == "complaint":
        complaint = data.get("complaint") or {}
        result.kind = "arf"
        result.feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        for item in complaint.get("complainedRecipients") or [{}]:
            address = normalise_address(str(item.get("emailAddress", "")))
            result.recipients.append(
                RecipientEvidence(recipient=address, diagnostic=result.feedback_type)
            )
    elif kind == "bounce":
        bounce = data.get("bounce") or {}
        result.kind = "dsn"
        for item in bounce.get("bouncedRecipients") or []:
            diagnostic = str(item.get("diagnosticCode") or "")
            diagnostic = re.sub(r"^\s*smtp\s*;\s*", "", diagnostic, flags=re.I)
            result.recipients.append(
                RecipientEvidence(
                    recipient=normalise_address(str(item.get("emailAddress", ""))),
                    status=find_status(diagnostic) or find_status(str(item.get("status", ""))),
                    reply_code=find_reply_code(diagnostic),
                    diagnostic=diagnostic or str(bounce.get("bounceSubType", "")),
                    action=str(item.get("action", "")).lower(),
                )
            )
    elif kind == "delivery":
        delivery = data.get("delivery") or {}
        reply = str(delivery.get("smtpResponse", ""))
        result.kind = "dsn"
        for address in delivery.get("recipients") or []:
            result.recipients.append(
                RecipientEvidence(
                    recipient=normalise_address(str(address)),
                    status=find_status(reply),
                    reply_code=find_reply_code(reply),
                    diagnostic=reply,
                    action="delivered",
                )
            )
    mail = data.get("mail") or {}
    result.original_message_id = result.original_message_id or str(mail.get("messageId", ""))
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "x-nurture-message":
            result.nurture_token = str(header.get("value", ""))
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            result.original_message_id = str(header.get("value", "")).strip("<> ")
    return bool(result.recipients)


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


def _human_text(message: Message) -> str:
    """All human-readable text of the message outside attached original messages."""
    if not message.is_multipart():
        return part_text(message)
    texts: list[str] = []
    for part in _walk_outside_originals(message):
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html") and not part.get_filename():
            texts.append(part_text(part))
    plain = [t for t in texts if t.strip()]
    return "\n\n".join(plain)


def _walk_outside_originals(message: Message):  # type: ignore[no-untyped-def]
    """Parts of the message, not descending into attached messages."""
    yield message
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        for sub in message.get_payload():
            if isinstance(sub, Message):
                if (
                    sub.get_content_maintype() == "message"
                    or sub.get_content_type() == "text/rfc822-headers"
                ):
                    continue
                yield from _walk_outside_originals(sub)


def _original_headers(message: Message) -> list[Message]:
    found: list[Message] = []
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list):
                found.extend(p for p in payload if isinstance(p, Message))
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers", "text/rfc822-header"):
            found.append(HeaderParser(policy=policy.compat32).parsestr(part_text(part).lstrip()))
    return found


def _original_recipients(message: Message) -> list[str]:
    for original in _original_headers(message):
        addresses = [normalise_address(a) for _, a in getaddresses([header_text(original, "To")])]
        addresses = [a for a in addresses if a]
        if addresses:
            return addresses
    return []


_TOKEN_HEADER = re.compile(r"(?im)^X-Nurture-Message:\s*([A-Za-z0-9_-]+)")
_MESSAGE_ID_HEADER = re.compile(r"(?im)^Message-I[Dd]:\s*<([^<>\s]+)>")


def _find_original(message: Message, result: ParsedBounce) -> None:
    """The quoted original's Message-ID and our per-message token, when quoted."""
    for original in _original_headers(message):
        result.original_message_id = result.original_message_id or header_text(
            original, "Message-ID"
        ).strip("<> ")
        result.nurture_token = result.nurture_token or header_text(original, "X-Nurture-Message")
    if result.original_message_id and result.nurture_token:
        return
    # Free-text bounces quote the original headers inline in the body.
    body = "\n".join(
        part_text(p)
        for p in message.walk()
        if not p.is_multipart() and p.get_content_maintype() == "text"
    )
    if not result.nurture_token:
        match = _TOKEN_HEADER.search(body)
        result.nurture_token = match.group(1) if match else ""
    if not result.original_message_id:
        match = _MESSAGE_ID_HEADER.search(body)
        if match and match.group(1) != result.bounce_message_id:
            result.original_message_id = match.group(1)

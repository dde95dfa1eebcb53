"""Reading a bounce as an email message: its headers and text, the attached or quoted
original message, and the evidence types the format parsers fill in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses

from nurture.sending.bounces.fields import normalise_address

# Lines that start the quoted original message in free-text bounces; everything below is
# the sender's own mail, whose addresses are not failed recipients.
_ORIGINAL_MARKERS = re.compile(
    r"^[ \t>]*(?:-{2,}.{0,20}(?:original message|copy of|returned message|message (?:headers|"
    r"text)|undelivered message|headers? (?:of|follow))|-{2,} ?(?:below this line|the header)"
    r"|(?:-+ *)?(?:original|returned|undelivered) (?:message|mail) (?:as follows|follows|"
    r"headers?|text|below)"
    r"|\s*-+\s*original message\s*-+|below this line is a copy|the (?:original |header of "
    r"the )?(?:message|original message)(?:'s headers)? (?:follows|is attached|headers are)"
    r"|this is a copy of the message|message headers follow|(?:^|\n)received: ?from )",
    re.IGNORECASE | re.MULTILINE,
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


def report_part(human: str) -> str:
    """The human report without the quoted original message."""
    match = _ORIGINAL_MARKERS.search(human)
    return human[: match.start()] if match and match.start() > 0 else human


def human_text(message: Message) -> str:
    """All human-readable text of the message outside attached original messages."""
    if not message.is_multipart():
        return part_text(message)
    texts: list[str] = []
    for part in walk_outside_originals(message):
        # A Content-Type whose parameters lost their ";" reads as "text/plain  charset=…".
        ctype = re.split(r"[\s;]", part.get_content_type(), maxsplit=1)[0]
        if ctype in ("text/plain", "text/html") and not part.get_filename():
            texts.append(part_text(part))
        elif part.get_content_maintype() == "multipart" and not part.is_multipart():
            # A multipart whose boundary parameter was lost (an unindented header
            # continuation) arrives as one blob of text: still the human report.
            texts.append(part_text(part))
    plain = [t for t in texts if t.strip()]
    return "\n\n".join(plain)


def walk_outside_originals(message: Message) -> Iterator[Message]:
    """Parts of the message, not descending into attached original messages (the report
    parts ``message/delivery-status`` and ``message/feedback-report`` are yielded)."""
    yield message
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        for sub in message.get_payload():
            if isinstance(sub, Message):
                if sub.get_content_type() in _REPORT_TYPES:
                    yield sub
                    continue
                if (
                    sub.get_content_maintype() == "message"
                    or sub.get_content_type() == "text/rfc822-headers"
                ):
                    continue
                yield from walk_outside_originals(sub)


_REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "message/feedback-report"}
)


def original_headers(message: Message) -> list[Message]:
    """The headers of the original message(s) the bounce attaches."""
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


def original_recipients(message: Message) -> list[str]:
    """The To addresses of the first attached original that has any."""
    for original in original_headers(message):
        addresses = [normalise_address(a) for _, a in getaddresses([header_text(original, "To")])]
        addresses = [a for a in addresses if a]
        if addresses:
            return addresses
    return []


_TOKEN_HEADER = re.compile(r"(?im)^X-Nurture-Message:\s*([A-Za-z0-9_-]+)")
_MESSAGE_ID_HEADER = re.compile(r"(?im)^Message-I[Dd]:\s*<([^<>\s]+)>")


def find_original(message: Message, result: ParsedBounce) -> None:
    """The quoted original's Message-ID and our per-message token, when quoted."""
    for original in original_headers(message):
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

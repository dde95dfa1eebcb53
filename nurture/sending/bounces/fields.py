"""The pieces of evidence a bounce carries in its text: addresses, enhanced status codes,
SMTP reply codes and commands, and ``Name: value`` field blocks."""

from __future__ import annotations

import re

ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# An RFC 3463 enhanced status code; the look-arounds keep it out of IP addresses and
# version numbers ("10.5.1.1", "2.6.32").
STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]|\.\d)")
# An SMTP reply code where MTAs quote one: followed by a space, a dash (continuation
# line) or an enhanced code, and not inside a longer number.
REPLY = re.compile(
    r"(?<![\w.#:/-])([245][0-7]\d)(?:[ -](?!\w*(?:bytes|days|hours|minutes))|$)", re.M
)


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

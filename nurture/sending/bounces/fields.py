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
    # In a session transcript the success codes (2.x.x) of the commands that went well
    # surround the failure: the failure is the code that matters.
    codes = [code for code in codes if not code.startswith("2")] or codes
    if not codes:
        return ""
    # X.Y.0 ("other") is the least specific code of its kind, and X.4.7 ("delivery time
    # expired") is the reporting MTA's own verdict that it gave up: when the remote
    # server's reason for the last attempt is quoted beside it, that reason is the news.
    specific = [code for code in codes if not code.endswith(".0")]
    remote = [code for code in specific if not code.endswith(".4.7")]
    return (remote or specific or codes)[0]


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
        # With PIPELINING the RCPT replies arrive after DATA was sent; a DATA answered
        # "no valid recipients" shows the refusal before it was the RCPT's.
        if re.search(r"no valid recipients", text, re.IGNORECASE):
            return "RCPT"
        return "DATA"
    return last.split()[0]


def find_reply_code(text: str) -> str:
    """The first failure SMTP reply code in a text, else the first code ('' when none)."""
    codes = [match.group(1) for match in REPLY.finditer(text)]
    failures = [code for code in codes if not code.startswith("2")]
    return (failures or codes or [""])[0]

"""Building outgoing messages as bytes, fast.

``email.message.EmailMessage`` costs ~1.8 ms for a 14 KB message, a hundred times the render.
Almost all of that work is the same for every message: the MIME structure, the part headers,
and the quoted-printable encoding of template markup that did not change. So a message here
is a fixed skeleton (headers of a multipart/alternative with a text/plain and a text/html part,
both UTF-8 quoted-printable) into which only what differs is encoded:

* The HTML arrives as the pieces Jinja rendered (``RenderedEmail.html_parts``): the
  template's constant pieces are encoded once and cached; only the per-recipient values are
  encoded per message. A soft line break (``=`` CRLF, which decodes to nothing) after each
  piece lets every piece start at column 0, so a cached encoding never depends on what came
  before it. A plain string is accepted too and is encoded line by line with the same cache.
* The multipart boundary is constant. It contains ``=_``, which quoted-printable output can
  never contain (``=`` only starts an ``=XX`` escape or a soft break), so no body can clash.

Headers follow RFC 5322/2047: CRLF line endings, folding at whitespace to 78 columns where
possible, encoded-words for non-ASCII text, no CR/LF from data (header injection).
"""

from __future__ import annotations

import binascii
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from types import MappingProxyType
from typing import Protocol

CRLF = b"\r\n"
_SOFT_BREAK = b"=\r\n"
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
# Headers the builder writes itself; passing them in ``headers`` is a mistake.
_OWN_HEADERS = frozenset(
    {
        "date",
        "from",
        "to",
        "subject",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_HEADER_NAME_RE = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ":"
_PLAIN_ADDRESS_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
# A display name of RFC 5322 atext words (no specials such as "." or ",", and no "=?" that
# could read as an encoded-word) and an address.
_SIMPLE_NAMED_RE = re.compile(
    r"([A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*)"
    r" *<([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+)>"
)
_MESSAGE_ID_RE = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
# Anything but printable ASCII and tab needs an encoded-word, as does text that looks
# like one (a reader would decode it).
_NEEDS_ENCODING_RE = re.compile(r"[^\t\x20-\x7e]|=\?")
_MAX_LINE = 78  # RFC 5322's "should"; 998 is the hard limit
_HARD_LIMIT = 998
_QP_LINE = 76  # RFC 2045: quoted-printable lines are at most 76 characters


class _RenderedLike(Protocol):
    @property
    def subject(self) -> str: ...

    @property
    def html(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def html_parts(self) -> tuple[str, ...]: ...


class MessageBuilder:
    """Builds multipart/alternative messages; keep one per process (it caches encodings).

    Thread-safe: the caches only ever gain complete entries, and a cleared cache is just
    rebuilt.
    """

    def __init__(self, *, boundary: str | None = None, cache_size: int = 20_000) -> None:
        self.boundary = boundary or f"=_nurture_{secrets.token_hex(8)}"
        if "=_" not in self.boundary or not re.fullmatch(
            r"[0-9A-Za-z'()+_,./:=?-]{1,69}", self.boundary
        ):
            raise ValueError("the boundary must be valid (RFC 2046) and contain '=_'")
        self.cache_size = cache_size
        self._pieces: dict[str, bytes] = {}
        self._addresses: dict[str, bytes] = {}
        # The last Date header: a batch's messages share their date, and formatting one
        # costs more than the rest of the header.
        self._date: tuple[datetime, bytes] | None = None
        self._lock = threading.Lock()
        boundary_line = b"--" + self.boundary.encode("ascii")
        part_headers = (
            b'Content-Type: text/%s; charset="utf-8"' + CRLF
            + b"Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF
        )  # fmt: skip
        self._open = (
            b"MIME-Version: 1.0" + CRLF
            + b'Content-Type: multipart/alternative; boundary="' + self.boundary.encode() + b'"'
            + CRLF + CRLF
            + boundary_line + CRLF
            + part_headers % b"plain"
        )  # fmt: skip
        self._middle = CRLF + boundary_line + CRLF + part_headers % b"html"
        self._close = CRLF + boundary_line + b"--" + CRLF

    def build(
        self,
        *,
        from_addr: str,
        to_addr: str,
        subject: str,
        html: str | Sequence[str],
        text: str | Sequence[str],
        message_id: str,
        date: datetime,
        headers: Mapping[str, str] = _NO_HEADERS,
    ) -> bytes:
        """The message as bytes with CRLF line endings, ready for SMTP ``DATA``.

        ``html`` and ``text`` are a string or the pieces they were rendered from (faster).
        ``date`` must be timezone-aware. ``headers`` are added as given (e.g.
        ``List-Unsubscribe``); non-ASCII values become RFC 2047 encoded-words. Raises
        ValueError for a value that would break the message (CR/LF, bad address or id).
        """
        if date.tzinfo is None or date.utcoffset() is None:
            raise ValueError("the Date must be timezone-aware")
        last = self._date
        if last is None or last[0] is not date:
            last = self._date = (date, b"Date: " + format_datetime(date).encode("ascii") + CRLF)
        head = [
            last[1],
            b"From: " + self._address(from_addr, cache=True) + CRLF,
            b"To: " + self._address(to_addr, cache=False) + CRLF,
            _unstructured("Subject", subject),
            b"Message-ID: " + _message_id(message_id) + CRLF,
        ]
        for name, value in headers.items():
            if not _HEADER_NAME_RE.fullmatch(name):
                raise ValueError(f"bad header name {name!r}")
            if name.lower() in _OWN_HEADERS:
                raise ValueError(f"{name} is written by the builder; do not pass it in headers")
            head.append(_unstructured(name, value))
        head.append(self._open)
        head.append(self._encode(text))
        head.append(self._middle)
        head.append(self._encode(html))
        head.append(self._close)
        return b"".join(head)

    def build_email(
        self,
        rendered: _RenderedLike,
        *,
        from_addr: str,
        to_addr: str,
        message_id: str,
        date: datetime,
        headers: Mapping[str, str] = _NO_HEADERS,
    ) -> bytes:
        """``build`` for a ``RenderedEmail``, using its HTML pieces (the fast path)."""
        return self.build(
            from_addr=from_addr,
            to_addr=to_addr,
            subject=rendered.subject,
            html=rendered.html_parts or rendered.html,
            text=rendered.text,
            message_id=message_id,
            date=date,
            headers=headers,
        )

    # ------------------------------------------------------------ bodies

    def _encode(self, body: str | Sequence[str]) -> bytes:
        if isinstance(body, str):
            return self._encode_lines(body)
        return self._encode_pieces(body)

    def _encode_pieces(self, pieces: Sequence[str]) -> bytes:
        cache = self._pieces
        out: list[bytes] = []
        for piece in pieces:
            if not piece:
                continue
            encoded = cache.get(piece)
            if encoded is None:
                # Short pieces too: a template's small constants (an attribute's closing
                # quote, a brand colour printed in every button) recur in every message, and
                # a look-up costs a twentieth of an encoding; the values among them only
                # bring the cache's next clearing closer.
                encoded = _quoted_printable(piece)
                self._remember(cache, piece, encoded)
            out.append(encoded)
            if not encoded.endswith(CRLF):
                # The next piece starts on a fresh line, as it was encoded; "=" CRLF is a
                # soft line break and decodes to nothing.
                out.append(_SOFT_BREAK)
        if out and out[-1] is _SOFT_BREAK:
            out.pop()
        return b"".join(out)

    def _encode_lines(self, body: str) -> bytes:
        if "\r" in body:
            body = body.replace("\r\n", "\n").replace("\r", "\n")
        lines = body.split("\n")
        cache = self._pieces
        encoded = list(map(cache.get, lines))
        if None in encoded:
            index = 0
            try:
                while True:
                    index = encoded.index(None, index)
                    line = lines[index]
                    value = _quoted_printable(line)
                    encoded[index] = value
                    # Lines are short and mostly template constants: cache them all.
                    self._remember(cache, line, value)
            except ValueError:
                pass  # no None left
        return CRLF.join(encoded)  # type: ignore[arg-type]

    def _remember(self, cache: dict[str, bytes], key: str, value: bytes) -> None:
        if len(cache) >= self.cache_size:
            # Per-recipient values (links with tokens) would grow the cache without end;
            # starting over costs one encoding of each template constant.
            with self._lock:
                cache.clear()
        cache[key] = value

    # ------------------------------------------------------------ addresses

    def _address(self, value: str, *, cache: bool) -> bytes:
        encoded = self._addresses.get(value) if cache else None
        if encoded is None:
            encoded = _format_address(value)
            if cache:
                if len(self._addresses) >= 1000:
                    self._addresses.clear()
                self._addresses[value] = encoded
        return encoded


_default_builder: MessageBuilder | None = None
_default_lock = threading.Lock()


def build_message(
    *,
    from_addr: str,
    to_addr: str,
    subject: str,
    html: str | Sequence[str],
    text: str | Sequence[str],
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] = _NO_HEADERS,
) -> bytes:
    """Build one message with the process-wide ``MessageBuilder`` (see its ``build``)."""
    global _default_builder
    if _default_builder is None:
        with _default_lock:
            if _default_builder is None:
                _default_builder = MessageBuilder()
    return _default_builder.build(
        from_addr=from_addr,
        to_addr=to_addr,
        subject=subject,
        html=html,
        text=text,
        message_id=message_id,
        date=date,
        headers=headers,
    )


def new_message_id(domain: str) -> str:
    """A new globally unique ``<…@domain>`` Message-ID (time plus 96 random bits)."""
    domain = domain.strip().rstrip(".")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"bad domain for a Message-ID: {domain!r}") from exc
    if not ascii_domain or not re.fullmatch(r"[A-Za-z0-9.-]+", ascii_domain):
        raise ValueError(f"bad domain for a Message-ID: {domain!r}")
    return f"<{time.time_ns() // 1_000_000:x}.{secrets.token_hex(12)}@{ascii_domain}>"


# ---------------------------------------------------------------- encoders


def _quoted_printable(piece: str) -> bytes:
    """Quoted-printable of ``piece`` as if it started at column 0, with CRLF line breaks."""
    if "\r" in piece:
        piece = piece.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(piece.encode("utf-8"), istext=True)
    if encoded.startswith(b"From ") or b"\nFrom " in encoded:
        encoded = _protect_from(encoded)
    return encoded.replace(b"\n", CRLF)


def _protect_from(encoded: bytes) -> bytes:
    """Encode the F of a line starting with "From " (mbox delivery would mangle it into
    ">From "), re-wrapping the line if the two extra characters make it too long."""
    out: list[bytes] = []
    for line in encoded.split(b"\n"):
        while line.startswith(b"From "):
            line = b"=46" + line[1:]
            if len(line) <= _QP_LINE:
                break
            cut = _QP_LINE - 1  # room for the soft-break "="
            # Never cut through an =XX escape.
            if line[cut - 1 : cut] == b"=":
                cut -= 1
            elif line[cut - 2 : cut - 1] == b"=":
                cut -= 2
            out.append(line[:cut] + b"=")
            line = line[cut:]
        out.append(line)
    return b"\n".join(out)


def _unstructured(name: str, value: str) -> bytes:
    """One header field with an unstructured value, folded, ending in CRLF."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} must be one line (CR/LF in a header is header injection)")
    if _NEEDS_ENCODING_RE.search(value):
        return _encoded_words(name, value)
    line = f"{name}: {value}"
    if len(line) <= _MAX_LINE:
        return line.encode("ascii") + CRLF
    return _fold(name, value)


def _fold(name: str, value: str) -> bytes:
    """Fold an ASCII header at whitespace so lines stay within 78 columns where possible.

    Folding inserts CRLF before existing whitespace, so unfolding (removing CRLF) gives the
    value back exactly.
    """
    words = re.findall(r"[ \t]*[^ \t]+|[ \t]+$", value)
    lines: list[str] = []
    current = f"{name}:"
    for index, word in enumerate(words):
        if index == 0:
            # The first word stays on the header's own line: some parsers mishandle a field
            # whose first line holds only its name.
            current += word if word[0].isspace() else " " + word
            continue
        if len(current) + len(word) > _MAX_LINE and word[0].isspace():
            lines.append(current)
            current = word
        else:
            current += word
    lines.append(current)
    if any(len(line) > _HARD_LIMIT for line in lines):
        raise ValueError(f"{name} has a word longer than {_HARD_LIMIT} characters")
    return "\r\n".join(lines).encode("ascii") + CRLF


def _encoded_words(name: str, value: str) -> bytes:
    """RFC 2047 base64 encoded-words, each line within 76 columns, never splitting a
    character across words (readers decode each word on its own)."""
    lines: list[bytes] = []
    budget = _QP_LINE - len(name) - 2  # "Name: " on the first line
    chunk: list[str] = []
    size = 0
    for char in value:
        length = len(char.encode("utf-8"))
        if chunk and _word_length(size + length) > budget:
            lines.append(_word("".join(chunk)))
            budget = _QP_LINE - 1  # continuation lines start with a space
            chunk, size = [], 0
        chunk.append(char)
        size += length
    if chunk or not lines:
        lines.append(_word("".join(chunk)))
    return name.encode("ascii") + b": " + b"\r\n ".join(lines) + CRLF


def _word_length(byte_count: int) -> int:
    return len("=?utf-8?b??=") + 4 * ((byte_count + 2) // 3)


def _word(text: str) -> bytes:
    return b"=?utf-8?b?" + binascii.b2a_base64(text.encode("utf-8"), newline=False) + b"?="


def _format_address(value: str) -> bytes:
    """An address header value: ``addr@example.com`` or ``Display Name <addr@…>``."""
    if "\r" in value or "\n" in value:
        raise ValueError("an address must be one line (CR/LF in a header is header injection)")
    value = value.strip()
    if _PLAIN_ADDRESS_RE.fullmatch(value):
        return value.encode("ascii")
    if match := _SIMPLE_NAMED_RE.fullmatch(value):
        # "Dana Whitfield <dana@…>": plain words need no quoting or encoding.
        return f"{match.group(1)} <{match.group(2)}>".encode("ascii")
    name, address = parseaddr(value)
    if not address or not _PLAIN_ADDRESS_RE.fullmatch(address):
        # Non-ASCII local parts need SMTPUTF8, which this builder does not produce.
        raise ValueError(f"not a usable email address: {value!r}")
    formatted = formataddr((name, address), charset="utf-8")
    if len(formatted) > _HARD_LIMIT:
        raise ValueError("display name too long")
    return formatted.encode("ascii")


def _message_id(value: str) -> bytes:
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MESSAGE_ID_RE.fullmatch(value):
        raise ValueError(f"bad Message-ID {value!r}: use new_message_id()")
    return value.encode("ascii")

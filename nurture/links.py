"""Click tracking for rendered emails: signed click URLs, UTM parameters, the honeypot link.

Pure: takes a rendered email and returns one whose http(s) links point at the click
endpoint. Each click URL carries, signed with the instance secret, the message token, the
link's position, how many distinct links the message has, and the destination itself; the
redirect therefore needs no look-up and can only ever send a visitor to a URL this message
contained (no open redirect: changing one byte breaks the signature).

The MIME builder caches the encoding of the template's constant HTML pieces, so links are
replaced *within* the pieces: the markup around a link stays a constant piece and only the
click URL is new per recipient.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeSerializer

from nurture.rendering_compile import RenderedEmail

CLICK_PATH = "/t/c/"
# The link index the honeypot carries; real links count from 0.
HONEYPOT_INDEX = -1
# How long the identity parameter appended to a clicked link stays valid: long enough for
# the page to load and the snippet to read it, short enough that a forwarded link or a
# browser history entry does not keep identifying whoever opens it.
IDENTITY_MAX_AGE_SECONDS = 15 * 60
IDENTITY_PARAM = "nv"
UTM_KEYS = ("source", "medium", "campaign", "term", "content")

_HREF_RE = re.compile(r"""(<(?:a|area)\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_TEXT_URL_RE = re.compile(r"""https?://[^\s<>"'\]\)]+""", re.I)
_BODY_RE = re.compile(r"<body\b[^>]*>", re.I)
# Hidden from people in every major client (display:none plus zero size, no text, out of the
# accessibility tree and the tab order); link scanners that follow every href still find it.
_HONEYPOT_HTML = (
    '<a href="{url}" style="display:none!important;font-size:0;line-height:0;max-height:0;'
    'overflow:hidden;mso-hide:all" aria-hidden="true" tabindex="-1"></a>'
)


@dataclass(frozen=True)
class ClickTarget:
    """What a verified click URL names."""

    token: str
    index: int
    count: int
    url: str

    @property
    def is_honeypot(self) -> bool:
        return self.index == HONEYPOT_INDEX


class LinkSigner:
    """Signs click URLs and identity parameters with the instance secret."""

    def __init__(self, secret_key: str) -> None:
        self._clicks = URLSafeSerializer(secret_key, salt="nurture.click")
        self._identity = TimestampSigner(secret_key, salt="nurture.visitor")

    def click_payload(self, token: str, index: int, count: int, url: str) -> str:
        """The signed, URL-safe path segment of one click URL."""
        return self._clicks.dumps([token, index, count, url])

    def load_click(self, payload: str) -> ClickTarget | None:
        """The click a payload names, or None when it is tampered, truncated or foreign."""
        try:
            value = self._clicks.loads(payload)
        except (BadData, UnicodeError, ValueError):
            return None
        if (
            not isinstance(value, list)
            or len(value) != 4
            or not isinstance(value[0], str)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:3])
            or not isinstance(value[3], str)
        ):
            return None
        return ClickTarget(value[0], value[1], value[2], value[3])

    def identity(self, token: str) -> str:
        """A short-lived signed reference to a message, appended to clicked links (``nv=``)."""
        return self._identity.sign(token).decode("ascii")

    def load_identity(self, value: str, now: datetime) -> str | None:
        """The message token in an identity parameter still valid at ``now``, else None."""
        try:
            token, signed_at = self._identity.unsign(value, return_timestamp=True)
        except (SignatureExpired, BadData, UnicodeError, ValueError):
            return None
        age = (now - signed_at).total_seconds()
        if age > IDENTITY_MAX_AGE_SECONDS or age < -60:
            return None
        return token.decode("ascii")


@functools.lru_cache(maxsize=4)
def link_signer(secret_key: str) -> LinkSigner:
    """A shared LinkSigner per secret (the engine signs every link of every email)."""
    return LinkSigner(secret_key)


def add_utm(url: str, utm: Mapping[str, str]) -> str:
    """``url`` with ``utm_<key>=value`` appended for each key it does not already carry."""
    if not utm:
        return url
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = [
        (f"utm_{key}", value)
        for key, value in utm.items()
        if key in UTM_KEYS and f"utm_{key}" not in present
    ]
    if not extra:
        return url
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def add_identity(url: str, identity: str) -> str:
    """``url`` with the identity parameter (``nv=``) added, before any fragment."""
    parts = urlsplit(url)
    pair = urlencode([(IDENTITY_PARAM, identity)])
    query = f"{parts.query}&{pair}" if parts.query else pair
    return urlunsplit(parts._replace(query=query))


def host_matches(url: str, domains: Sequence[str]) -> bool:
    """True when ``url``'s host is one of ``domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def track_links(
    rendered: RenderedEmail,
    *,
    token: str,
    signer: LinkSigner,
    public_url: str,
    utm: Mapping[str, str] | None = None,
) -> RenderedEmail:
    """Rewrite every http(s) link of ``rendered`` (HTML and text) to a signed click URL.

    Links to Nurture's own pages (unsubscribe, preferences, tracking) are left alone.
    ``utm`` parameters are appended to each destination that lacks them. A hidden honeypot
    link is added to the HTML. Distinct destinations share one index across both parts.
    """
    utm = utm or {}
    own = public_url.rstrip("/") + "/"
    joined = rendered.html
    pieces: Sequence[str] = rendered.html_parts or (joined,)

    def trackable(url: str) -> bool:
        return url.lower().startswith(("http://", "https://")) and not url.startswith(own)

    html_links = []
    for match in _HREF_RE.finditer(joined):
        url = html.unescape(match.group(3)).strip()
        if trackable(url):
            html_links.append((match.start(3), match.end(3), add_utm(url, utm)))
    text_links = []
    for match in _TEXT_URL_RE.finditer(rendered.text):
        # A sentence may end right after a URL; the full stop is not part of it.
        url = _strip(match.group())
        if trackable(url):
            text_links.append((match.start(), match.start() + len(url), add_utm(url, utm)))
    destinations: dict[str, int] = {}
    for _, _, url in (*html_links, *text_links):
        destinations.setdefault(url, len(destinations))
    count = len(destinations)
    base = public_url.rstrip("/") + CLICK_PATH

    def click_url(url: str) -> str:
        return base + signer.click_payload(token, destinations[url], count, url)

    edits = [(start, end, click_url(url)) for start, end, url in html_links]
    body = _BODY_RE.search(joined)
    at = body.end() if body else 0
    honeypot = base + signer.click_payload(token, HONEYPOT_INDEX, count, "")
    edits.append((at, at, _HONEYPOT_HTML.format(url=honeypot)))
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    new_pieces = _splice(pieces, edits)
    text = _replace_spans(rendered.text, [(s, e, click_url(u)) for s, e, u in text_links])
    return replace(rendered, html="".join(new_pieces), html_parts=tuple(new_pieces), text=text)


def _strip(url: str) -> str:
    return url.rstrip(".,;:!?")


def _replace_spans(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    out, cursor = [], 0
    for start, end, replacement in edits:
        out.append(text[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _splice(pieces: Sequence[str], edits: Sequence[tuple[int, int, str]]) -> list[str]:
    """Apply non-overlapping ``(start, end, replacement)`` edits (offsets into the joined
    pieces) while keeping every untouched stretch inside its original piece, so constant
    template pieces stay byte-identical from one recipient to the next."""
    joined = "".join(pieces)
    bounds = {0, len(joined)}
    offset = 0
    for piece in pieces:
        offset += len(piece)
        bounds.add(offset)
    cuts = sorted(bounds | {s for s, _, _ in edits} | {e for _, e, _ in edits})
    out: list[str] = []
    k = 0
    covered_until = 0
    for a, b in zip(cuts, [*cuts[1:], None], strict=True):
        while k < len(edits) and edits[k][0] == a:
            _, end, replacement = edits[k]
            out.append(replacement)
            covered_until = max(covered_until, end)
            k += 1
        if b is not None and a >= covered_until and b > a:
            out.append(joined[a:b])
    return out

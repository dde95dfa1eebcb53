"""Which site a form post came from, read from the ``Origin`` and ``Referer`` headers.

A page that changes something on a POST must not be posted to from another site: a page
elsewhere could make a signed-in or link-holding person's browser send the form (CSRF).
Browsers name the page's origin in ``Origin`` on every cross-origin POST; when a browser
sends no ``Origin`` (older ones), ``Referer`` tells. A post with neither is let through:
no current browser sends a cross-site form that way, and the form's own token still has
to match; a client that strips both (a privacy extension, a script) is not a browser being
tricked. ``Origin: null`` (a sandboxed frame, a ``data:`` page) is refused.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` (the port only when not the scheme's default),
    or None when it names no origin (``null``, a relative or malformed URL)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    shown_port = "" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{host}{shown_port}"


def from_another_site(origin: str | None, referer: str | None, own: Collection[str]) -> bool:
    """True when a post's ``Origin`` (or, without one, its ``Referer``) names a site that
    is not one of ``own`` origins."""
    if origin is not None:
        return origin_of(origin) not in own
    if referer is not None:
        return origin_of(referer) not in own
    return False

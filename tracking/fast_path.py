"""The open pixel and the click redirect, answered in front of Flask.

These two URLs take the traffic of every email ever sent (mail clients, proxies, link
scanners), so they are served by a lean WSGI layer wrapped around the Flask app, the way
Matomo serves its tracker outside its framework: routing two path prefixes, checking the
signature, storing the hit and answering skip the CPU Flask's request context, URL map
and response object cost (measured: docs/benchmarks.md, "Tracking capture").
Every other path, including the other tracking URLs (snippet, collector, unsubscribe), goes
on to Flask untouched. Nothing here imports Flask (only werkzeug's IRI quoting).

Behaviour is the routes' behaviour: a tampered, truncated or foreign token still gets the
image (an open) or a plain 404 page (a click) and records nothing; GET and HEAD are
answered (HEAD hits are stored: the machine rules use the method); any other method gets
405. A hit that cannot be stored is logged and the reader still gets the image or the
redirect (``tracking.capture``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from email.utils import parseaddr
from typing import Any

from werkzeug.urls import iri_to_uri

from nurture.platform.runtime import Runtime
from nurture.tracking.links import add_identity, host_matches, link_signer
from nurture.tracking.tokens import MessageSigner
from tracking.collect import HONEYPOT_PAGE, NO_STORE, NOT_FOUND_PAGE, PIXEL, capture

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_OPEN_PREFIX = "/t/o/"
_CLICK_PREFIX = "/t/c/"


class TrackingFastPath:
    """WSGI middleware answering ``/t/o/<signed>.gif`` and ``/t/c/<payload>`` itself.

    ``extensions`` is the Flask app's extension dict, read on each hit for the processor's
    waker (``nurture serve`` installs it after the app is built).
    """

    def __init__(self, app: WSGIApp, runtime: Runtime, extensions: dict[str, Any]) -> None:
        self.app = app
        self.runtime = runtime
        self.extensions = extensions
        settings = runtime.settings
        self.messages = MessageSigner(settings.secret_key)
        self.links = link_signer(settings.secret_key)  # the process's shared signer
        # Clicks to the marketer's own site carry the visitor's identity (``nv=``), so the
        # snippet can join the anonymous history to the lead.
        self.site_domains = tuple(settings.site_domains) or (
            parseaddr(settings.mail_from)[1].rpartition("@")[2].lower(),
        )
        no_store = list(NO_STORE.items())
        self.pixel_headers = [
            ("Content-Type", "image/gif"),
            ("Content-Length", str(len(PIXEL))),
            *no_store,
        ]
        self.not_found = NOT_FOUND_PAGE.encode()
        self.not_found_headers = _html_headers(self.not_found, no_store)
        self.honeypot = HONEYPOT_PAGE.encode()
        self.honeypot_headers = _html_headers(self.honeypot, no_store)
        self.redirect_headers = [
            *no_store,
            ("Content-Length", "0"),
            # The identity parameter must not leak onwards in a Referer header.
            ("Referrer-Policy", "no-referrer"),
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(_OPEN_PREFIX):
            signed = path[len(_OPEN_PREFIX) :]
            if signed.endswith(".gif") and "/" not in signed:
                return self._answer(environ, start_response, self._open, signed[:-4])
        elif path.startswith(_CLICK_PREFIX):
            payload = path[len(_CLICK_PREFIX) :]
            if payload and "/" not in payload:
                return self._answer(environ, start_response, self._click, payload)
        return self.app(environ, start_response)

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        handler: Callable[[dict[str, Any], str], tuple[str, list[tuple[str, str]], bytes]],
        segment: str,
    ) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response(
                "405 METHOD NOT ALLOWED", [("Allow", "GET, HEAD"), ("Content-Length", "0")]
            )
            return []
        status, headers, body = handler(environ, segment)
        start_response(status, headers)
        return [] if method == "HEAD" else [body]

    def _open(self, environ: dict[str, Any], signed: str) -> tuple[str, list, bytes]:
        token = self.messages.unsign(signed)
        if token is not None:
            self._capture(environ, "open", token=token)
        return "200 OK", self.pixel_headers, PIXEL

    def _click(self, environ: dict[str, Any], payload: str) -> tuple[str, list, bytes]:
        target = self.links.load_click(payload)
        if target is None:
            return "404 NOT FOUND", self.not_found_headers, self.not_found
        if target.is_honeypot:
            self._capture(environ, "honeypot", token=target.token, link_index=target.index)
            return "200 OK", self.honeypot_headers, self.honeypot
        self._capture(
            environ,
            "click",
            token=target.token,
            link_index=target.index,
            link_count=target.count,
            url=target.url,
        )
        destination = target.url
        if host_matches(destination, self.site_domains):
            destination = add_identity(destination, self.links.identity(target.token))
        # As Flask's response would: a non-ASCII (IRI) destination is sent percent-encoded.
        return "302 FOUND", [("Location", iri_to_uri(destination)), *self.redirect_headers], b""

    def _capture(self, environ: dict[str, Any], kind: str, **fields: Any) -> None:
        waker = self.extensions.get("nurture.hit_processor")
        capture(self.runtime, waker, environ, kind, **fields)


def _html_headers(body: bytes, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *extra,
    ]

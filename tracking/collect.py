"""Tracking endpoints: the hit capture shared with the fast path, the website snippet and
its collector.

Public URLs: no authentication, so every input is untrusted. Each request verifies its
signature without a database look-up, stores one raw hit (``nurture.tracking.capture``) and
answers; classification, events and scoring happen afterwards in
``nurture.tracking.processing``. A bad token never produces a 5xx and records nothing: the
pixel still returns the image (mail clients show a broken-image icon otherwise), a click
gets a plain 404 page.

The open pixel and the click redirect, the busiest URLs, are answered in front of Flask by
``tracking.fast_path`` (installed by the app factory); this blueprint holds the rest.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, json, request

from nurture.platform.runtime import Runtime
from nurture.tracking.capture import hit_writer
from nurture.tracking.clock import instance_now
from nurture.tracking.hit_rows import hit_row

log = logging.getLogger(__name__)

bp = Blueprint("collect", __name__)

# A 1×1 transparent GIF (43 bytes).
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, private", "Pragma": "no-cache"}
NOT_FOUND_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    "<body style='font-family:sans-serif;max-width:36em;margin:4em auto'>"
    "<h1>Link not found</h1><p>This link is incomplete or has been changed, so we cannot "
    "tell where it should go. Please use the link exactly as it appears in the email.</p>"
)
HONEYPOT_PAGE = "<!doctype html><html lang=en><meta charset=utf-8><title>OK</title><body></body>"
# The headers browsers and proxies mark speculative fetches with, as WSGI names them.
_PREFETCH_ENVIRON = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
_VISITOR_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_COLLECT_BYTES = 16 * 1024
# Per-field length limits of the collector: longer values are refused, not cut.
_COLLECT_LIMITS = {
    "url": 2000,
    "title": 300,
    "referrer": 2000,
    "form": 100,
    "email": 320,
    "nv": 200,
}


def _runtime() -> Runtime:
    return current_app.extensions["nurture"]


def capture(
    runtime: Runtime, waker: Any, environ: dict[str, Any], kind: str, **fields: Any
) -> None:
    """Store the hit ``environ`` (a WSGI request) makes, durably, then wake the hit
    processor through ``waker`` (None when this process runs none).

    A hit that cannot be stored is logged and dropped: the recipient still gets the image
    or the page they asked for (a lost hit costs a data point, a broken link costs the
    reader).
    """
    settings = runtime.settings
    row = hit_row(
        kind=kind,
        # The wall clock, or the simulated one of a demo or test instance.
        now=instance_now(runtime),
        method=environ.get("REQUEST_METHOD", "GET"),
        user_agent=environ.get("HTTP_USER_AGENT"),
        ip=environ.get("REMOTE_ADDR"),
        prefetch=any(
            v in environ.get(h, "").lower()
            for h in _PREFETCH_ENVIRON
            for v in ("prefetch", "preview")
        ),
        ip_privacy=settings.ip_privacy,
        secret=settings.secret_key,
        **fields,
    )
    try:
        hit_writer(runtime).write(row)
    except Exception:
        log.exception("a %s hit could not be stored and is lost", kind)
        return
    if waker is not None:
        waker.wake()


@bp.get("/t/snippet.js")
def snippet() -> Response:
    """The website snippet, with this instance's collector URL filled in."""
    script = current_app.extensions.get("nurture.snippet")
    if script is None:
        text = (Path(__file__).parent / "snippet.js").read_text(encoding="utf-8")
        collect = _runtime().settings.public_url.rstrip("/") + "/t/e"
        script = current_app.extensions["nurture.snippet"] = text.replace(
            "__NURTURE_COLLECT_URL__", json.dumps(collect)[1:-1]
        )
    return Response(
        script,
        mimetype="application/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@bp.route("/t/e", methods=["POST", "OPTIONS"])
def collect() -> Response:
    """Page views and form submissions posted by the snippet (public, CORS-open).

    The snippet sends ``text/plain`` JSON with ``navigator.sendBeacon``, a "simple"
    cross-origin request that needs no preflight; no cookie is read or set here.
    """
    cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "86400"}
    if request.method == "OPTIONS":
        cors["Access-Control-Allow-Methods"] = "POST"
        cors["Access-Control-Allow-Headers"] = "Content-Type"
        return Response(status=204, headers=cors)
    if request.content_length is not None and request.content_length > MAX_COLLECT_BYTES:
        return _collect_error({"_": f"at most {MAX_COLLECT_BYTES} bytes"}, cors, status=413)
    try:
        data = json.loads(request.get_data(cache=False, as_text=True) or "null")
    except ValueError:
        data = None
    errors = _collect_errors(data)
    if errors:
        return _collect_error(errors, cors)
    payload = {k: data[k] for k in ("title", "referrer", "form", "email", "nv") if data.get(k)}
    capture(
        _runtime(),
        current_app.extensions.get("nurture.hit_processor"),
        request.environ,
        data["type"],
        visitor_id=data["vid"],
        url=data.get("url"),
        payload=payload,
    )
    return Response(status=204, headers=cors)


def _collect_errors(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        return {"_": "send a JSON object"}
    errors: dict[str, str] = {}
    if not isinstance(data.get("vid"), str) or not _VISITOR_RE.fullmatch(data["vid"]):
        errors["vid"] = "a visitor id of 8 to 64 letters, digits, - or _"
    if data.get("type") not in ("page", "form"):
        errors["type"] = "page or form"
    for name, limit in _COLLECT_LIMITS.items():
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[name] = f"text of at most {limit} characters"
    if data.get("type") == "page" and not data.get("url"):
        errors["url"] = "required for a page view"
    return errors


def _collect_error(errors: dict[str, str], headers: dict[str, str], status: int = 422) -> Response:
    body = json.dumps({"error": "invalid", "message": "the event is not valid", "errors": errors})
    return Response(body, status=status, mimetype="application/json", headers=headers)

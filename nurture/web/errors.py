"""JSON errors for the API: every error under /api is a problem details document (RFC 9457,
``Content-Type: application/problem+json``), never an HTML page.

The body has the RFC's ``type`` (``about:blank``: the status says it all), ``title`` (the
status's reason phrase), ``status`` and ``detail`` (for people), plus the API's own members,
kept for existing clients: ``error`` (a stable, machine-readable code), ``message`` (the
same text as ``detail``) and, for validation failures, ``errors``, one reason per field::

    {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
     "detail": "the lead is not valid", "error": "invalid", "message": "the lead is not valid",
     "errors": {"email": "An email address must have an @-sign."}}
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

# RFC 9457's media type for problem details.
PROBLEM_JSON = "application/problem+json"


def json_error(
    status: int,
    error: str,
    message: str,
    *,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem details response (RFC 9457) with the API's ``error``/``message``/``errors``."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": message,
        "error": error,
        "message": message,
    }
    if errors is not None:
        body["errors"] = dict(errors)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _title(status: int) -> str:
    # RFC 9457 4.2.1: with type about:blank, the title is the status's reason phrase.
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def validation_error(errors: Mapping[str, str], message: str = "the lead is not valid") -> Response:
    """422 with per-field reasons."""
    return json_error(422, "invalid", message, errors=errors)


def _from_http_exception(exc: HTTPException) -> Response:
    code = exc.code or 500
    name = (exc.name or "error").lower().replace(" ", "_")
    if code >= 500:
        # Never leak internals; the traceback is in the log (Flask logs it before calling us).
        message = "internal error; the server log has the details"
    else:
        message = exc.description or exc.name or "error"
    # Keep the headers the exception carries (Allow on 405, WWW-Authenticate on 401), but
    # not its HTML Content-Type.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return json_error(code, name, message, headers=headers)


def register_error_handlers(bp: Blueprint) -> None:
    """Make every error under the blueprint's URL prefix a JSON response.

    Errors raised inside the blueprint's views (400, 401, 404 from a lookup, 413, 422, 500)
    go to a blueprint handler. 404 and 405 from *routing* happen before Flask knows which
    blueprint a URL belongs to, so they need app-wide handlers; those answer JSON only for
    paths under the prefix and leave every other path to Flask's default pages.
    """
    prefix = (bp.url_prefix or "").rstrip("/")

    def under_prefix() -> bool:
        return request.path == prefix or request.path.startswith(prefix + "/")

    @bp.errorhandler(HTTPException)
    def api_http_error(exc: HTTPException) -> Response:
        return _from_http_exception(exc)

    @bp.app_errorhandler(NotFound)
    def routing_not_found(exc: NotFound) -> Response | HTTPException:
        return _from_http_exception(exc) if under_prefix() else exc

    @bp.app_errorhandler(MethodNotAllowed)
    def routing_method_not_allowed(exc: MethodNotAllowed) -> Response | HTTPException:
        return _from_http_exception(exc) if under_prefix() else exc

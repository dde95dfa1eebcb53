"""JSON errors for the API: every error under /api is a JSON body, never an HTML page.

The body always has ``error`` (a stable, machine-readable code) and ``message`` (for people);
validation failures add ``errors``, one reason per field::

    {"error": "invalid", "message": "the lead is not valid",
     "errors": {"email": "An email address must have an @-sign."}}
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound


def json_error(
    status: int,
    error: str,
    message: str,
    *,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON error response."""
    body: dict[str, object] = {"error": error, "message": message}
    if errors is not None:
        body["errors"] = dict(errors)
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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

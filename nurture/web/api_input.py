"""Hostile input for the JSON API, refused once for every endpoint.

Before a view runs, ``check_api_request`` (the API blueprint's ``before_request``) refuses:

- a body over the endpoint's limit (``NURTURE_API_MAX_BODY``, 1 MiB; the bulk lead and
  bounce endpoints declare more with ``body_limit``): 413;
- control characters (NUL…) in the path: 404; in a query parameter: 400 naming it;
- a JSON body that is not valid, nested deeper than ``MAX_DEPTH``, or holding NUL, a lone
  surrogate, a number outside 64 bits or not finite: 400 naming the field.

The JSON checks live in ``SafeJSONProvider.loads``, so every ``request.get_json`` of the
app parses the same way; the hook only parses early to answer with the field's name.
Ids in paths use ``IdConverter`` (``<int:…>``), which matches 1 to 2^31 - 1 only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

from nurture.platform.ids import MAX_COUNT, MAX_ID
from nurture.web.errors import json_error

# Deeper than any document the API takes (a lead's attributes are 2 levels down).
MAX_DEPTH = 32
# NUL, the other C0 controls and DEL: no path, parameter or id of the API holds one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# NUL (PostgreSQL text cannot store it) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")

F = TypeVar("F", bound=Callable[..., Any])


class HostileJSON(ValueError):
    """A JSON document the API refuses; ``field`` is where (``$`` is the whole body)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise HostileJSON("$", f"{name} is not a JSON number")


def loads_checked(text: str | bytes) -> Any:
    """Parse JSON like ``json.loads``, raising ``HostileJSON`` for what the API refuses."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        # The C parser recurses per bracket; far past MAX_DEPTH it runs out of stack.
        raise HostileJSON("$", f"nested deeper than {MAX_DEPTH} levels") from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Walk a parsed document without recursion and raise at the first refused value."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list) and depth > MAX_DEPTH:
            raise HostileJSON(where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_string(key, where)
                stack.append((child, f"{where}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            _check_string(item, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int) and not -MAX_COUNT - 1 <= item <= MAX_COUNT:
            raise HostileJSON(where, "a number outside the 64-bit range")
        elif isinstance(item, float) and not math.isfinite(item):
            raise HostileJSON(where, "a number too large to represent")


def _check_string(text: str, where: str) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    what = "a NUL character" if found.group() == "\x00" else "a lone surrogate (invalid Unicode)"
    raise HostileJSON(where, f"contains {what}")


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, parsing with the API's checks (see ``loads_checked``)."""

    # Keep JSON keys in the order the API builds them (id, email, names…), not sorted.
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse ``s``; hostile documents raise ``HostileJSON`` (a ``ValueError``)."""
        return loads_checked(s)


class IdConverter(IntegerConverter):
    """``<int:…>`` for row ids: 1 to MAX_ID (2^31 - 1), so any other number is a 404, not
    an overflow in the database."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Let a view take bodies up to ``max_bytes`` instead of the API's default limit."""

    def mark(view: F) -> F:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


def _limit_for_view() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    limit: int | None = getattr(view, "max_body_bytes", None)
    if limit is not None:
        return limit
    return int(current_app.extensions["nurture"].settings.api_max_body)


def check_api_request() -> Response | None:
    """Refuse a hostile request before its view runs (None lets it through)."""
    if _CONTROL.search(request.path):
        return json_error(404, "not_found", "no such resource: the path has a control character")
    bad = sorted(
        {key for key, value in request.args.items(multi=True) if _CONTROL.search(key + value)}
    )
    if bad:
        return json_error(
            400,
            "bad_request",
            "a query parameter has a control character",
            errors={key[:100]: "must not contain control characters" for key in bad},
        )
    limit = _limit_for_view()
    # Also bounds bodies sent without a Content-Length (chunked): reading past it is a 413.
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        return json_error(413, "payload_too_large", f"the body may be at most {limit} bytes")
    if request.is_json and request.content_length:
        try:
            request.get_json()  # parsed and cached: the view's get_json gets this value
        except BadRequest as exc:
            cause = _hostile_cause(exc)
            if cause is not None:
                return json_error(
                    400, "bad_request", cause.reason, errors={cause.field: cause.reason}
                )
            return json_error(400, "bad_request", "the body is not valid JSON")
    return None


def _hostile_cause(exc: BaseException) -> HostileJSON | None:
    # Flask and werkzeug re-raise a parse error as BadRequest, chained to the original.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, HostileJSON):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None

"""JSON request bodies of ``/api/v1`` checked against the OpenAPI document before the view.

Every operation of ``openapi.yaml`` with an ``application/json`` request body gets a
validator (JSON Schema Draft 2020-12, the dialect of OpenAPI 3.1), compiled once per
process. ``check_request_body`` (a ``before_request`` of the API blueprint, after the
hostile-input checks of ``api_input``) answers a body that does not match with a 422
problem naming each place by its JSON Pointer (RFC 6901), once the request's API key is
known to be valid (without one, the view's 401 comes first)::

    {"status": 422, "error": "invalid", "detail": "/email: 123 is not of type 'string'",
     "errors": {"/email": "123 is not of type 'string'"}, ...}

The schemas describe shape (types, required and unknown fields, exact enumerations); the
views still check meaning (a valid email address, a known campaign) and keep their own
answers for it. A request without a JSON body, or whose body is not even of the schema's
type (a string where an object belongs), is left to the view, which says what it expects.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from flask import Response, current_app, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from nurture.web.api import bp
from nurture.web.api_openapi import openapi_document
from nurture.web.auth import has_valid_api_key
from nurture.web.errors import json_error

# The URI the whole document is registered under, so ``#/components/schemas/…`` resolves.
DOCUMENT_URI = "urn:nurture:api:v1:openapi"
# Enough to fix a body in one go; a bulk body with 1000 bad items is not listed in full.
MAX_ERRORS = 20
# jsonschema's messages quote the offending value, which may be a whole (large) document.
MAX_MESSAGE = 200
_PATH_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

Operation = tuple[str, str]  # (method in lower case, OpenAPI path such as /leads/{ref})


@functools.cache
def body_validators() -> dict[Operation, Draft202012Validator]:
    """A compiled validator for every operation whose request body is JSON."""
    document = openapi_document()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    # A mistake in the document fails here (and in the tests), not as a 500 later.
    for component in document.get("components", {}).get("schemas", {}).values():
        Draft202012Validator.check_schema(component)
    validators: dict[Operation, Draft202012Validator] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            Draft202012Validator.check_schema(content["application/json"]["schema"])
            # A reference into the document rather than a copy of the schema: its own $refs
            # (#/components/schemas/…) then resolve against the whole document.
            where = _pointer(("paths", path, method, "requestBody", "content"))
            schema = {"$ref": f"{DOCUMENT_URI}#{where}/application~1json/schema"}
            validators[(method, path)] = Draft202012Validator(schema, registry=registry)
    return validators


def operation_of(rule: str, method: str) -> Operation:
    """The document's operation for a Flask rule (``/api/v1/leads/<path:ref>``) and method."""
    prefix = bp.url_prefix or ""
    return method.lower(), _PATH_PARAMETER.sub(r"{\1}", rule.removeprefix(prefix))


def check_request_body() -> Response | None:
    """Refuse a JSON body that does not match its operation's schema (None lets it through)."""
    if request.url_rule is None or not request.is_json:
        return None
    validator = body_validators().get(operation_of(request.url_rule.rule, request.method))
    if validator is None:
        return None
    # Parsed (and cached for the view) by the hostile-input check; an unreadable or empty
    # body is the view's to answer, as it was before bodies were checked here.
    body = request.get_json(silent=True)
    if body is None:
        return None
    # One pass over the body; a valid one (the usual case) yields nothing.
    found = list(islice(validator.iter_errors(body), MAX_ERRORS))
    if not found or any(_is_type_error_at_root(error) for error in found):
        # A string where an object belongs: each view has its own answer (400 "send a JSON
        # object …"), which says what to send more plainly than a schema can.
        return None
    errors = explain(found)
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "public", False) and not has_valid_api_key():
        # The view answers 401: without a key nobody learns more than that.
        return None
    pointer, message = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return json_error(422, "invalid", f"{pointer or 'the body'}: {message}{more}", errors=errors)


def explain(errors: Iterable[ValidationError]) -> dict[str, str]:
    """jsonschema's errors as the problem's ``errors``: JSON Pointer -> reason, sorted by
    pointer, at most ``MAX_ERRORS``."""
    found: dict[str, str] = {}
    for pointer, message in islice(_explain(errors), MAX_ERRORS):
        found.setdefault(pointer, _short(message))
    return dict(sorted(found.items()))


def _is_type_error_at_root(error: ValidationError) -> bool:
    if error.absolute_path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("oneOf", "anyOf") and error.context:
        # The body is of no alternative's type ("an object or an array" given a string).
        branches = {sub.schema_path[0] for sub in error.context}
        mismatched = {
            sub.schema_path[0]
            for sub in error.context
            if not sub.relative_path and sub.validator == "type"
        }
        return branches == mismatched
    return False


def _explain(errors: Iterable[ValidationError]) -> Iterator[tuple[str, str]]:
    for error in errors:
        where = _pointer(error.absolute_path)
        if error.validator == "required":
            # Point at the missing field itself, not at the object that lacks it.
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    yield f"{where}/{_escape(name)}", "a required field is missing"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for name in error.instance:
                if name not in known:
                    yield f"{where}/{_escape(str(name))}", "not a field of this body"
        elif error.validator in ("oneOf", "anyOf") and error.context:
            yield from _explain_alternatives(error, where)
        else:
            yield where, error.message


def _explain_alternatives(error: ValidationError, where: str) -> Iterator[tuple[str, str]]:
    # A body that is "an object or an array" fails every alternative; only the alternatives
    # of the body's own type say anything useful (a lead's bad field, not "not an array").
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    fitting = [
        subs
        for subs in branches.values()
        if not any(sub.validator == "type" and not sub.relative_path for sub in subs)
    ]
    if len(fitting) == 1:
        yield from _explain(fitting[0])
        return
    # Every alternative fails at this place (e.g. an unknown event type is neither a known
    # one nor custom.NAME): say so with each alternative's own reason.
    reasons = [sub.message for subs in branches.values() for sub in subs if not sub.relative_path]
    yield where, " or ".join(reasons) if reasons else error.message


def _pointer(path: Iterable[Any]) -> str:
    return "".join(f"/{_escape(str(part))}" for part in path)


def _escape(name: str) -> str:
    # RFC 6901: ~ and / inside a name are written ~0 and ~1.
    return name.replace("~", "~0").replace("/", "~1")


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


# After api_input's hostile-input check, which the API module registers first: a body is
# parsed safely before it is validated.
bp.before_request(check_request_body)

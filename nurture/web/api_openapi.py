"""``GET /api/v1/openapi.json``: the API's OpenAPI 3.1 document, served without a key.

The document is kept by hand in ``openapi.yaml`` beside this module; a test checks that it
and the routes agree, and schemathesis checks the API against it. It is public, like most
APIs' descriptions: it names operations and fields, never data, and tools (client
generators, API explorers) fetch it before they have a key.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from flask import jsonify

from nurture.web.api import bp
from nurture.web.ui.security import public

DOCUMENT = Path(__file__).with_name("openapi.yaml")


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, read once per process."""
    with DOCUMENT.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


@bp.get("/openapi.json")
@public
def openapi_view() -> Any:
    """The OpenAPI 3.1 document of ``/api/v1`` as JSON."""
    return jsonify(openapi_document())

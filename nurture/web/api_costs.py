"""JSON API: the cost entries (docs/costs.md), with an API key.

- ``GET /api/v1/costs?from=YYYY-MM&to=YYYY-MM``: the entries of the months ``[from, to)``,
  the file's and the app's;
- ``PUT /api/v1/costs``: one entry of the app, inserted or updated by its month, source and
  campaign (``{"month", "source", "campaign", "amount", "currency", "note"}``); 201 when
  new, 200 when updated; 400 naming each bad field; 409 when the costs file sets that
  month, source and campaign (the answer names the file and line);
- ``DELETE /api/v1/costs/<id>``: an entry of the app (409 for the file's).
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from nurture.analytics.costs import CostConflict, delete_cost, list_costs, put_cost
from nurture.analytics.costs.entries import CostFieldError, parse_month_range
from nurture.platform.db import transaction, utcnow
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error

FIELDS = ("month", "source", "campaign", "amount", "currency", "note")
# Ids are database keys: a larger number names nothing and must not reach the database.
MAX_ID = 2**31 - 1


@bp.get("/costs")
@require_api_key
def costs_list() -> Any:
    """The entries of the months ``[from, to)`` (either may be left out), by month."""
    unknown = sorted(set(request.args) - {"from", "to"})
    if unknown:
        return json_error(
            400,
            "bad_request",
            "unknown query parameter(s)",
            errors={name[:50]: "not a parameter" for name in unknown[:10]},
        )
    try:
        start, end = parse_month_range(request.args.get("from"), request.args.get("to"))
    except CostFieldError as error:
        return json_error(400, "bad_request", "invalid query parameters", errors=error.errors)
    with _runtime().sessions() as session:
        entries = list_costs(session, start=start, end=end)
    return jsonify({"costs": [entry.as_dict() for entry in entries]})


@bp.put("/costs")
@require_api_key
def costs_put() -> Any:
    """Enter one cost in the app (insert or update by month, source and campaign)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return json_error(
            400, "bad_request", "send a JSON object: month, source, campaign, amount, ..."
        )
    unknown = sorted(str(name)[:50] for name in data if name not in FIELDS)
    if unknown:
        return json_error(
            400,
            "bad_request",
            "invalid cost",
            errors={name: "not a field of a cost" for name in unknown[:10]},
        )
    try:
        with transaction(_runtime().sessions) as session:
            stored, created = put_cost(session, data, who=_actor(), now=utcnow())
    except CostFieldError as error:
        return json_error(400, "bad_request", "invalid cost", errors=error.errors)
    except CostConflict as error:
        return json_error(409, "conflict", str(error))
    response = jsonify(stored.as_dict())
    response.status_code = 201 if created else 200
    return response


@bp.delete("/costs/<int:cost_id>")
@require_api_key
def costs_delete(cost_id: int) -> Any:
    """Delete an entry of the app."""
    if cost_id > MAX_ID:
        return json_error(404, "not_found", "no such cost entry")
    try:
        with transaction(_runtime().sessions) as session:
            stored = delete_cost(session, cost_id)
    except LookupError:
        return json_error(404, "not_found", "no such cost entry")
    except CostConflict as error:
        return json_error(409, "conflict", str(error))
    return jsonify({"deleted": stored.as_dict()})


def _actor() -> str:
    key = getattr(g, "api_key", None)
    return f"api:{getattr(key, 'name', 'key')}"

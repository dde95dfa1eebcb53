"""JSON API: an account's revenue entries (renewals, upsells, other income), with an API
key.

- ``GET /api/v1/accounts/<id>/revenue``: the account's entries, newest booking first;
- ``POST /api/v1/accounts/<id>/revenue`` ``{"amount": "1200.00", "currency": "EUR",
  "booked_on": "2026-03-01", "kind": "renewal", "note": "…", "lead_id": 12}``: book one;
  a bad field is a 400 naming each (``errors``), an unknown account a 404.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from nurture.handoff.revenue import add_revenue, revenue_lines
from nurture.handoff.revenue_rules import RevenueError
from nurture.models import Account
from nurture.platform.db import transaction, utcnow
from nurture.platform.ids import MAX_ID
from nurture.web.api import _runtime, bp
from nurture.web.auth import require_api_key
from nurture.web.errors import json_error

FIELDS = ("amount", "currency", "booked_on", "kind", "note", "lead_id")


@bp.get("/accounts/<int:account_id>/revenue")
@require_api_key
def account_revenue(account_id: int) -> Any:
    """The account's revenue entries, newest booking first."""
    with _runtime().sessions() as session:
        if session.get(Account, account_id) is None:
            return _no_account(account_id)
        lines = revenue_lines(session, account_id=account_id)
        return jsonify({"entries": [line.as_dict() for line in lines]})


@bp.post("/accounts/<int:account_id>/revenue")
@require_api_key
def add_account_revenue(account_id: int) -> Any:
    """Book revenue for the account: 201 with the entry, or 400 naming each bad field."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "bad_request", "send a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    errors = {str(name)[:50]: "not a field of a revenue entry" for name in unknown[:10]}
    lead = body.get("lead_id")
    if lead is not None and (
        isinstance(lead, bool) or not isinstance(lead, int) or not 1 <= lead <= MAX_ID
    ):
        errors["lead_id"] = "a lead's id (a whole number)"
        lead = None
    key = getattr(g, "api_key", None)
    try:
        with transaction(_runtime().sessions) as session:
            account = session.get(Account, account_id)
            if account is None:
                return _no_account(account_id)
            try:
                entry = add_revenue(
                    session,
                    account,
                    amount=body.get("amount"),
                    currency=body.get("currency"),
                    booked_on=body.get("booked_on"),
                    kind=body.get("kind"),
                    note=body.get("note"),
                    lead_ref=lead,
                    who=f"api:{getattr(key, 'name', 'key')}",
                    now=utcnow(),
                )
            except RevenueError as error:
                errors.update({"lead_id" if k == "lead" else k: v for k, v in error.errors.items()})
            if errors:
                raise RevenueError(errors)
            [line] = revenue_lines(session, entry_id=entry.id)
            response = jsonify(line.as_dict())
    except RevenueError as error:
        return json_error(400, "bad_request", "invalid revenue entry", errors=error.errors)
    response.status_code = 201
    return response


def _no_account(account_id: int) -> Any:
    return json_error(404, "not_found", f"no account with id {account_id}")

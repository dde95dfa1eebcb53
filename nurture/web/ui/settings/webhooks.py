"""``/settings/webhooks``: the configured endpoints and the delivery log (keyset-paged),
one delivery's attempts and body, and retrying one, through nurture.handoff.webhooks (the
same use cases as ``nurture webhooks``)."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from nurture.auth import roles
from nurture.handoff.webhooks import retry
from nurture.models import WebhookDelivery
from nurture.models.webhook import DELIVERY_STATUSES
from nurture.platform.db import transaction, utcnow
from nurture.reports.keyset import parse_id
from nurture.reports.settings import webhook_deliveries, webhook_endpoints
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime
from nurture.web.ui.settings.blueprint import MAX_ID, bp, not_found

STATUSES = DELIVERY_STATUSES
_DELIVERY = f"<int(max={MAX_ID}):delivery_id>"


@bp.get("/settings/webhooks")
@requires(roles.SETTINGS_MANAGE)
def webhooks_index() -> Any:
    """Endpoints, then the delivery log, newest first (filter: ``?status=``)."""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    after = parse_id(request.args.get("after"))
    settings = runtime().settings
    with transaction(runtime().sessions) as session:
        endpoints = webhook_endpoints(session, settings)
        deliveries = webhook_deliveries(session, status=status or None, after=after)
    links = page_links(
        "ui_settings.webhooks_index", deliveries.next_after, bool(after), status=status or None
    )
    return page(
        "ui/settings/webhooks.html",
        endpoints=endpoints,
        deliveries=deliveries.rows,
        status_filter=status,
        statuses=STATUSES,
        next_url=links.next_url,
        first_url=links.first_url,
        secret_set=bool(settings.webhook_secret),
        max_attempts=settings.webhook_max_attempts,
    )


@bp.get(f"/settings/webhooks/{_DELIVERY}")
@requires(roles.SETTINGS_MANAGE)
def delivery_show(delivery_id: int) -> Any:
    """One delivery: its attempts, last answer and the exact JSON sent."""
    return _show(delivery_id)


def _show(delivery_id: int, status: int = 200, problem: str | None = None) -> Any:
    with transaction(runtime().sessions) as session:
        row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        return not_found(_("webhook delivery"))
    try:
        body = json.dumps(json.loads(row.body), indent=2, ensure_ascii=False)
    except ValueError:
        body = row.body
    return page(
        "ui/settings/delivery.html", delivery=row, body=body, problem=problem, status=status
    )


@bp.post(f"/settings/webhooks/{_DELIVERY}/retry")
@requires(roles.SETTINGS_MANAGE)
def delivery_retry(delivery_id: int) -> Any:
    """Make a pending or failed delivery due now; the worker sends it within seconds."""
    try:
        with transaction(runtime().sessions) as session:
            retry(session, delivery_id, utcnow())
    except LookupError:
        return not_found(_("webhook delivery"))
    except ValueError:
        problem = _("That delivery was already delivered; there is nothing to retry.")
        return _show(delivery_id, 409, problem)
    flash(
        _("Delivery %(id)d is due now; the worker sends it within seconds.", id=delivery_id),
        "success",
    )
    return redirect(url_for("ui_settings.delivery_show", delivery_id=delivery_id))

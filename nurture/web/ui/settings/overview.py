"""``/settings``: each section of the settings and its state at a glance."""

from __future__ import annotations

from typing import Any

from nurture.auth import roles
from nurture.platform.db import transaction, utcnow
from nurture.reports.settings import overview
from nurture.web.ui.render import page, page_brand
from nurture.web.ui.security import requires, runtime
from nurture.web.ui.settings.blueprint import bp


@bp.get("/settings")
@requires(roles.SETTINGS_MANAGE)
def index() -> Any:
    """The overview: users, API keys, webhooks, sending, brand, audit log."""
    with transaction(runtime().sessions) as session:
        state = overview(session, runtime().settings, utcnow())
    return page("ui/settings/index.html", state=state, current_brand=page_brand())

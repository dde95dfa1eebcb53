"""The home page: today and the last 7 days at a glance, and what needs a person."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from nurture.auth import roles
from nurture.platform.db import transaction, utcnow
from nurture.reports.glance import glance
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_home", __name__)


@bp.get("/")
@requires(roles.REPORTS_VIEW)
def index() -> Any:
    """The overview."""
    with transaction(runtime().sessions) as session:
        figures = glance(session, runtime().settings, utcnow())
    return page("ui/home.html", glance=figures)

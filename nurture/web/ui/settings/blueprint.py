"""The settings area's blueprint and what its views share: the id converter bound and the
404 page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import gettext as _

from nurture.web.ui.render import page

bp = Blueprint("ui_settings", __name__)

# Ids in URLs stop at PostgreSQL's integer: a longer number is "not found", not an error
# from the database.
MAX_ID = 2_147_483_647


def not_found(what: str) -> Any:
    """The 404 page for an unknown object of this area."""
    return page(
        "ui/error.html",
        status=404,
        title=_("Not found"),
        message=_("There is no such %(what)s. It may have been removed.", what=what),
    )

"""The settings area's blueprint and what its views share: the id converter bound, the
404 page, and the date filter of its templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from flask_babel import format_datetime
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


@bp.app_template_filter("settings_when")
def settings_when(value: datetime | None, empty: str = "—") -> str:
    """A timestamp in the reader's language (medium date, short time, UTC)."""
    if value is None:
        return empty
    return format_datetime(value, "medium")

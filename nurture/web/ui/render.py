"""Rendering a page of the app: the navigation the user's role may see, flash messages,
and the security headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from flask import Response, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from nurture.auth import roles
from nurture.consent.brand import Brand, current_brand
from nurture.web.ui.security import ANY_ROLE, add_page_headers, runtime


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation, shown to roles with its permission."""

    endpoint: str
    label: Any  # a lazy translation
    permission: str


NAVIGATION = (
    NavItem("ui_home.index", _l("Home"), roles.REPORTS_VIEW),
    NavItem("ui_campaigns.index", _l("Campaigns"), roles.CAMPAIGNS_VIEW),
    NavItem("ui_leads.index", _l("Leads"), roles.LEADS_VIEW),
    NavItem("ui_accounts.index", _l("Accounts"), roles.LEADS_VIEW),
    NavItem("ui_import.index", _l("Import"), roles.LEADS_EDIT),
    NavItem("ui_sales.inbox", _l("Sales"), roles.SALES_OWN),
    NavItem("ui_sales.reviews_list", _l("Hand-raisers"), roles.HANDRAISERS_REVIEW),
    NavItem("ui_reports.dashboard", _l("Reports"), roles.REPORTS_VIEW),
    NavItem("ui_settings.index", _l("Settings"), roles.SETTINGS_MANAGE),
)


# How the pages name each role of nurture.auth.roles (the CLI keeps the role's key).
ROLE_LABELS = {
    "admin": _l("Admin"),
    "marketer": _l("Marketer"),
    "sales": _l("Sales rep"),
    "sales-manager": _l("Sales manager"),
    "viewer": _l("Viewer"),
}


def role_label(role: str) -> str:
    """The role's name in the reader's language."""
    return str(ROLE_LABELS.get(role, role))


def navigation() -> list[NavItem]:
    """The entries the signed-in user may open (pages not installed are left out)."""
    if not current_user.is_authenticated:
        return []
    return [
        item
        for item in NAVIGATION
        if item.endpoint in current_app.view_functions and current_user.may(item.permission)
    ]


def has_page(endpoint: str) -> bool:
    """True when the app serves ``endpoint`` and the signed-in user's role opens it: links
    to pages of other areas use it, so nobody is shown a link that answers "Not allowed"
    (a marketer to a handoff, a sales rep to a campaign)."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    permission = getattr(view, "required_permission", None)
    return permission in (None, ANY_ROLE) or current_user.may(permission)


def page_brand() -> Brand:
    """The brand (company name, logo, colour), read once per request (and cached across
    requests by nurture.consent.brand for a few seconds)."""
    if "nurture_brand" not in g:
        with runtime().sessions() as session:
            g.nurture_brand = current_brand(session, runtime().settings)
    return cast(Brand, g.nurture_brand)


def prefetch_brand() -> None:
    """Read the brand as a page request starts (a ``before_request`` hook), before any view
    opens its transaction: on SQLite a second session would wait for that one's write
    lock, so a view may then render (and send emails) inside its transaction."""
    if (request.blueprint or "").startswith("ui_"):
        page_brand()


def page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A rendered page with the app's headers."""
    brand = page_brand()
    html = render_template(
        template,
        nav=navigation(),
        company=brand.company_name,
        brand=brand,
        has_page=has_page,
        **context,
    )
    return add_page_headers(Response(html, status=status, mimetype="text/html"))

"""Roles and what each may do: one table, read by the web app's permission check and the
CLI. Pure data and rules."""

from __future__ import annotations

# Permissions, by area: "view" reads, the others change something.
CAMPAIGNS_VIEW = "campaigns.view"
CAMPAIGNS_EDIT = "campaigns.edit"  # campaign, template, scoring, ICP, readiness, team files
LEADS_VIEW = "leads.view"
LEADS_EDIT = "leads.edit"  # profile edits, enrolment, CSV import
LEADS_EXPORT = "leads.export"  # CSV of a filtered set, a lead's data export
LEADS_ERASE = "leads.erase"
SALES_OWN = "sales.own"  # work one's own handoffs: accept, reject, convert
SALES_MANAGE = "sales.manage"  # the team's handoffs: SLA report, reassign
REPORTS_VIEW = "reports.view"
REVENUE_EDIT = "revenue.edit"  # book an account's revenue after the won deal (renewals…)
COSTS_EDIT = "costs.edit"  # marketing costs entered in the app (docs/costs.md)
SETTINGS_MANAGE = "settings.manage"  # users, API keys, webhooks, sending, brand
# The review queue of hand-raisers outside the ICP: send to sales anyway, or keep nurturing.
HANDRAISERS_REVIEW = "handraisers.review"

ALL_PERMISSIONS = frozenset(
    {
        CAMPAIGNS_VIEW,
        CAMPAIGNS_EDIT,
        LEADS_VIEW,
        LEADS_EDIT,
        LEADS_EXPORT,
        LEADS_ERASE,
        SALES_OWN,
        SALES_MANAGE,
        REPORTS_VIEW,
        REVENUE_EDIT,
        COSTS_EDIT,
        SETTINGS_MANAGE,
        HANDRAISERS_REVIEW,
    }
)

# The role → permissions table. A viewer reads everything marketing and sales read;
# marketers change campaigns and leads and review the hand-raisers outside the ICP; sales
# works handoffs; a sales manager also sees and reassigns the team's and books an account's
# later revenue; an admin may do everything, including erasing a person's data.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": ALL_PERMISSIONS,
    "marketer": frozenset(
        {
            CAMPAIGNS_VIEW,
            CAMPAIGNS_EDIT,
            LEADS_VIEW,
            LEADS_EDIT,
            LEADS_EXPORT,
            REPORTS_VIEW,
            COSTS_EDIT,
            HANDRAISERS_REVIEW,
        }
    ),
    "sales-manager": frozenset({LEADS_VIEW, SALES_OWN, SALES_MANAGE, REPORTS_VIEW, REVENUE_EDIT}),
    "sales": frozenset({LEADS_VIEW, SALES_OWN}),
    "viewer": frozenset({CAMPAIGNS_VIEW, LEADS_VIEW, REPORTS_VIEW}),
}
ROLES: tuple[str, ...] = tuple(PERMISSIONS)


def may(role: str, permission: str) -> bool:
    """True when ``role`` grants ``permission`` (an unknown role grants nothing)."""
    return permission in PERMISSIONS.get(role, frozenset())


def check_role(role: str) -> str:
    """``role`` when it is one of ``ROLES``, else ValueError naming the choices."""
    if role not in PERMISSIONS:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role

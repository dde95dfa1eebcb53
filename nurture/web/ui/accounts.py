"""Accounts: the companies leads work for (docs/web/accounts.md).

- ``/accounts``: search by name or domain, filter by industry, country, size and open
  handoffs, sort by account score, name or latest activity, 50 at a time (keyset pages).
- ``/accounts/<id>``: firmographics, the account score and how it is made, the buying
  committee (who covers which role, which roles are missing), its people, open handoffs
  and recent activity: the account view of ``nurture accounts show`` and the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from nurture.auth import roles
from nurture.handoff.account_view import account_view
from nurture.platform.db import transaction, utcnow
from nurture.reports.accounts import (
    SIZE_BANDS,
    AccountFilter,
    counted_people,
    filter_choices,
    list_accounts,
    open_handoffs,
)
from nurture.web.ui.paging import page_links
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_accounts", __name__)

MAX_ID = 2**31 - 1
TIMELINE = 30
# People listed on an account's page, most engaged first; the rest are in the lead list
# filtered by the account (an account can have thousands, and the page must stay readable
# and fast).
PEOPLE_SHOWN = 50
SORT_CHOICES = [
    SelectChoice("score", _l("Account score")),
    SelectChoice("name", _l("Name")),
    SelectChoice("activity", _l("Latest activity")),
]


class FilterForm(FlaskForm):
    """The list's search, filters and sort order (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search name or domain"), validators=[Optional(), Length(max=200)])
    industry = SelectField(_l("Industry"), validate_choice=False)
    country = SelectField(_l("Country"), validate_choice=False)
    size = SelectField(_l("Employees"), validate_choice=False)
    open_handoff = BooleanField(_l("Only with an open handoff"))
    sort = SelectField(_l("Sort by"), choices=SORT_CHOICES, validate_choice=False)


@bp.get("/accounts")
@requires(roles.LEADS_VIEW)
def index() -> Any:
    """The account list."""
    form = FilterForm(request.args)
    any_label = str(_l("Any"))
    with transaction(runtime().sessions) as session:
        industries, countries = filter_choices(session)
        form.industry.choices = [SelectChoice("", any_label)] + [
            SelectChoice(i, i) for i in industries
        ]
        form.country.choices = [SelectChoice("", any_label)] + [
            SelectChoice(c, c) for c in countries
        ]
        form.size.choices = [SelectChoice("", any_label)] + [SelectChoice(k, k) for k in SIZE_BANDS]
        valid = form.validate()
        filters = AccountFilter(
            query=(form.q.data or "")[:200] if valid else "",
            industry=form.industry.data or "",
            country=form.country.data or "",
            size=form.size.data or "",
            open_handoff=bool(form.open_handoff.data),
        )
        sort = form.sort.data if form.sort.data in ("score", "name", "activity") else "score"
        after = request.args.get("after") or None
        result = list_accounts(session, now=utcnow(), filters=filters, sort=sort, after=after)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after" and v}
    links = page_links("ui_accounts.index", result.next_after, bool(after), **args)
    return page(
        "ui/accounts/index.html",
        form=form,
        accounts=result.rows,
        next_url=links.next_url,
        first_url=links.first_url,
        sort=sort,
        status=200 if valid else 400,
    )


@bp.get("/accounts/<int:account_id>")
@requires(roles.LEADS_VIEW)
def show(account_id: int) -> Any:
    """One account: firmographics, score, committee, people, handoffs, activity."""
    if not 0 < account_id <= MAX_ID:
        abort(404)
    settings = runtime().settings
    with transaction(runtime().sessions) as session:
        view = account_view(
            session, str(account_id), utcnow(), method=settings.account_score, timeline=TIMELINE
        )
        if view is None:
            abort(404)
        return page(
            "ui/accounts/show.html",
            view=view,
            account=view.account,
            people=view.people[:PEOPLE_SHOWN],
            more_people=max(0, len(view.people) - PEOPLE_SHOWN),
            counted=counted_people(view),
            open_handoffs=open_handoffs(view),
            top_n=view.method[3:] if view.method.startswith("top") else None,
        )

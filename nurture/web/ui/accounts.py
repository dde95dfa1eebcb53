"""Accounts: the companies leads work for (docs/web/accounts.md).

- ``/accounts``: search by name or domain, filter by industry, country, size and open
  handoffs, sort by account score, name or latest activity, 50 at a time (keyset pages).
- ``/accounts/<id>``: firmographics, the account score and how it is made, the buying
  committee (who covers which role, which roles are missing), its people, open handoffs
  and recent activity: the account view of ``nurture accounts show`` and the API; its
  revenue after the won deal, and (``revenue.edit``) a form to book more (``POST
  /accounts/<id>/revenue``, as ``nurture revenue add``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from nurture.auth import roles
from nurture.handoff.account_view import account_view
from nurture.handoff.revenue import add_revenue, revenue_lines
from nurture.handoff.revenue_rules import MAX_AMOUNT, MAX_NOTE, RevenueError
from nurture.models import Account
from nurture.platform.db import transaction, utcnow
from nurture.reports.accounts import (
    SIZE_BANDS,
    AccountFilter,
    counted_people,
    filter_choices,
    list_accounts,
    open_handoffs,
)
from nurture.web.ui.formatting import number_text
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
# Revenue entries listed on the page, newest first (the rest: ``nurture revenue list``).
REVENUE_SHOWN = 50
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


class RevenueForm(FlaskForm):
    """Revenue booked for the account after its won deal: a renewal, an upsell…"""

    amount = StringField(
        _l("Amount"),
        validators=[InputRequired(message=_l("Enter the amount, e.g. 1200 or 1200.50."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": 20},
    )
    currency = StringField(
        _l("Currency"),
        validators=[InputRequired(message=_l("Enter the three-letter code, e.g. EUR."))],
        render_kw={"autocomplete": "off", "size": 4, "maxlength": 3},
    )
    booked_on = DateField(
        _l("Booked on"),
        validators=[DataRequired(message=_l("Enter the day it was booked."))],
    )
    kind = SelectField(_l("Kind"), default="renewal")
    note = StringField(
        _l("Note (optional)"), validators=[Length(max=MAX_NOTE)], render_kw={"maxlength": 500}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            SelectChoice("renewal", _l("renewal")),
            SelectChoice("upsell", _l("upsell")),
            SelectChoice("deal", _l("deal")),
            SelectChoice("other", _l("other")),
        ]

    def validate_amount(self, field: Field) -> None:
        """An amount above zero, in cents at most, below 10^12."""
        try:
            amount = Decimal((field.data or "").strip().replace(",", ""))
        except InvalidOperation:
            raise ValidationError(_l("Enter a number, e.g. 1200 or 1200.50.")) from None
        if not amount.is_finite() or amount <= 0:
            raise ValidationError(_l("The amount must be above zero."))
        if amount >= MAX_AMOUNT:
            raise ValidationError(_l("The amount is too large."))
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(_l("Use at most two decimals (cents)."))

    def validate_currency(self, field: Field) -> None:
        """An ISO 4217 code (EUR, USD, GBP…)."""
        if (field.data or "").strip().upper() not in list_currencies():
            raise ValidationError(_l("Use the three-letter code, e.g. EUR or USD."))

    def validate_booked_on(self, field: Field) -> None:
        """Not in the future: revenue is booked when it happens."""
        if isinstance(field.data, date) and field.data > utcnow().date():
            raise ValidationError(_l("The day is in the future."))


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
    return _show(account_id)


@bp.post("/accounts/<int:account_id>/revenue")
@requires(roles.REVENUE_EDIT)
def add_account_revenue(account_id: int) -> Any:
    """Book revenue for the account (``nurture revenue add``)."""
    if not 0 < account_id <= MAX_ID:
        abort(404)
    form = RevenueForm()
    if not form.validate_on_submit():
        return _show(account_id, revenue_form=form, status=422)
    try:
        with transaction(runtime().sessions) as session:
            account = session.get(Account, account_id)
            if account is None:
                abort(404)
            entry = add_revenue(
                session,
                account,
                amount=(form.amount.data or "").strip().replace(",", ""),
                currency=form.currency.data,
                booked_on=form.booked_on.data,
                kind=form.kind.data,
                note=form.note.data,
                who=current_user.actor,
                now=utcnow(),
            )
            amount, currency = entry.amount, entry.currency
    except RevenueError:
        # The form checks what the use case checks: only a change of day between the two
        # (midnight) can get here.
        form.booked_on.errors = [_("The day is in the future.")]
        return _show(account_id, revenue_form=form, status=422)
    flash(
        _("Booked %(amount)s %(currency)s.", amount=number_text(amount, 2), currency=currency),
        "success",
    )
    return redirect(url_for("ui_accounts.show", account_id=account_id) + "#revenue-h")


def _show(account_id: int, *, revenue_form: RevenueForm | None = None, status: int = 200) -> Any:
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
            revenue=revenue_lines(session, account_id=account_id, limit=REVENUE_SHOWN),
            revenue_form=revenue_form or RevenueForm(formdata=None),
            status=status,
        )

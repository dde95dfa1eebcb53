"""``/reports/costs``: the cost entries — the costs file's, read-only with their file and
line, and the app's, to add, edit and delete — through nurture.analytics.costs (the same
use cases as ``nurture costs`` and ``/api/v1/costs``). Viewing takes ``reports.view``,
changing ``costs.edit``; every change is audited by ``requires``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from nurture.analytics.costs import CostConflict, delete_cost, list_costs, put_cost
from nurture.analytics.costs.entries import (
    MAX_KEY,
    MAX_NOTE,
    CostFieldError,
    parse_month_range,
)
from nurture.analytics.costs.store import get_cost
from nurture.analytics.costs.sync import reporting_currency
from nurture.auth import roles
from nurture.models import Campaign
from nurture.platform.db import transaction, utcnow
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime

bp = Blueprint("ui_costs", __name__)

# Ids are database keys: a larger number names nothing (and must not reach the database).
MAX_ID = 2**31 - 1
_COST = f"<int(max={MAX_ID}):cost_id>"
FIELDS = ("month", "source", "campaign", "amount", "note", "currency")


class CostForm(FlaskForm):
    """One cost of the app: a month, a source and/or a campaign, an amount, a note. The
    values are checked by the use case (the file's rules), so the form only bounds them."""

    month = StringField(_l("Month (YYYY-MM)"), validators=[Length(max=7)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=MAX_KEY)])
    campaign = SelectField(_l("Campaign"), choices=[], validate_choice=False)
    amount = StringField(_l("Amount"), validators=[Length(max=20)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)])
    # Asked only before the first cost: later ones are in the reporting currency.
    currency = StringField(_l("Currency (ISO 4217)"), validators=[Optional(), Length(max=3)])


@bp.get("/reports/costs")
@requires(roles.REPORTS_VIEW)
def index() -> Any:
    """Every entry, by month; the form to add one (for those who may)."""
    return _list(_form())


@bp.post("/reports/costs")
@requires(roles.COSTS_EDIT)
def create() -> Any:
    """Add an entry of the app (or update the app's entry for the same month, source and
    campaign)."""
    form = _form()
    if not form.validate_on_submit():
        return _list(form, 422)
    if not _save(form, None):
        return _list(form, 422)
    flash(_("The cost was saved."), "success")
    return redirect(url_for("ui_costs.index"))


@bp.get(f"/reports/costs/{_COST}/edit")
@requires(roles.COSTS_EDIT)
def edit(cost_id: int) -> Any:
    """The form of one entry of the app."""
    with transaction(runtime().sessions) as session:
        stored = get_cost(session, cost_id)
    if stored is None or not stored.editable:
        return _not_found()
    form = _form(
        data={
            "month": stored.month,
            "source": stored.source or "",
            "campaign": stored.campaign or "",
            "amount": str(stored.amount),
            "note": stored.note or "",
        }
    )
    return _edit_page(form, cost_id)


@bp.post(f"/reports/costs/{_COST}")
@requires(roles.COSTS_EDIT)
def update(cost_id: int) -> Any:
    """Change an entry of the app."""
    form = _form()
    if not form.validate_on_submit():
        return _edit_page(form, cost_id, 422)
    saved = _save(form, cost_id)
    if saved is None:
        return _not_found()
    if not saved:
        return _edit_page(form, cost_id, 422)
    flash(_("The cost was saved."), "success")
    return redirect(url_for("ui_costs.index"))


@bp.post(f"/reports/costs/{_COST}/delete")
@requires(roles.COSTS_EDIT)
def remove(cost_id: int) -> Any:
    """Delete an entry of the app."""
    try:
        with transaction(runtime().sessions) as session:
            delete_cost(session, cost_id)
    except LookupError:
        return _not_found()
    except CostConflict as error:
        flash(str(error), "error")
        return redirect(url_for("ui_costs.index"))
    flash(_("The cost was deleted."), "success")
    return redirect(url_for("ui_costs.index"))


def _form(**kwargs: Any) -> CostForm:
    form = CostForm(**kwargs)
    with transaction(runtime().sessions) as session:
        keys = session.scalars(select(Campaign.key).order_by(Campaign.key)).all()
    form.campaign.choices = [("", _("none")), *((key, key) for key in keys)]
    return form


def _save(form: CostForm, cost_id: int | None) -> bool | None:
    """Put the form's entry; False with the errors on the form, None for an unknown id."""
    fields = {name: getattr(form, name).data or None for name in FIELDS}
    try:
        with transaction(runtime().sessions) as session:
            put_cost(session, fields, who=current_user.actor, now=utcnow(), cost_id=cost_id)
    except CostFieldError as error:
        for name, why in error.errors.items():
            target = getattr(form, name, None) if name in FIELDS else None
            if target is None:
                form.form_errors.append(f"{name}: {why}")
            else:
                target.errors = [*target.errors, _("required") if why == "required" else why]
        return False
    except CostConflict as error:
        form.form_errors.append(str(error))
        return False
    except LookupError:
        return None
    return True


def _list(form: CostForm, status: int = 200) -> Any:
    # The months shown: ?from=YYYY-MM&to=YYYY-MM (the first month not shown), else all.
    shown = {name: (request.args.get(name) or "").strip()[:7] for name in ("from", "to")}
    problem = None
    try:
        start, end = parse_month_range(shown["from"], shown["to"])
    except CostFieldError as error:
        start = end = None
        problem = "; ".join(f"{name}: {why}" for name, why in error.errors.items())
        status = status if status != 200 else 400
    with transaction(runtime().sessions) as session:
        entries = list_costs(session, start=start, end=end)
        currency = reporting_currency(session)
    return page(
        "ui/reports/costs.html",
        entries=entries,
        form=form,
        currency=currency,
        shown=shown,
        problem=problem,
        may_edit=current_user.may(roles.COSTS_EDIT),
        status=status,
    )


def _edit_page(form: CostForm, cost_id: int, status: int = 200) -> Any:
    with transaction(runtime().sessions) as session:
        currency = reporting_currency(session)
    return page(
        "ui/reports/cost_edit.html", form=form, cost_id=cost_id, currency=currency, status=status
    )


def _not_found() -> Any:
    return page(
        "ui/error.html",
        status=404,
        title=_("Not found"),
        message=_("There is no such cost entry of the app. It may have been removed."),
    )

"""Sales: marketing's review queue of hand-raisers (docs/web/sales.md#hand-raisers-in-review).

- ``GET /sales/reviews?status=open|sent|dismissed``: the hand-raisers held for review
  (outside the ICP), newest first, with the counts of each status.
- ``GET /sales/reviews/<id>``: one of them: who, what they asked for and when, the fit
  and why the lead is held, and the two ways to resolve it.
- ``POST /sales/reviews/<id>/send``: send the lead to sales anyway (an optional note);
  ``POST /sales/reviews/<id>/dismiss``: keep nurturing it, with the reason (required).

The same use cases as ``nurture handoffs review`` and the API
(``nurture.qualification.reviews``), acting as the signed-in user; the marketer role (and
admins) may open them.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from nurture.auth import roles
from nurture.handoff.model import HandoffError
from nurture.models import Lead
from nurture.platform.db import transaction, utcnow
from nurture.qualification import reviews
from nurture.qualification.hand_raise_rules import REVIEW_STATUSES
from nurture.web.ui.render import page
from nurture.web.ui.sales_common import bp, check_id
from nurture.web.ui.security import requires, runtime

STATUS_LABELS = {
    "open": _l("In review"),
    "sent": _l("Sent to sales"),
    "dismissed": _l("Dismissed"),
}
PAGE_SIZE = 50


class SendForm(FlaskForm):
    """Send to sales: an optional note, shown to sales with the reasons."""

    note = TextAreaField(
        _l("Note for sales (optional)"), validators=[Optional(), Length(max=reviews.NOTE_LENGTH)]
    )


class DismissForm(FlaskForm):
    """Keep nurturing: why, required (it is what the report and the next reviewer read)."""

    reason = TextAreaField(
        _l("Why does this lead stay in nurture?"),
        validators=[
            DataRequired(message=_l("Say why the lead stays in nurture.")),
            Length(max=reviews.NOTE_LENGTH),
        ],
    )


class ReviewFilters(FlaskForm):
    """Which status, and where the page starts."""

    class Meta:
        csrf = False  # GET filters change nothing

    status = StringField(validators=[Optional(), Length(max=10)], default="open")
    after = StringField(validators=[Optional(), Length(max=80)])


def _refusal(error: HandoffError) -> str:
    """A refused resolution, in the reader's language."""
    texts = {
        "already_resolved": _("Someone resolved this review already; nothing was changed."),
        "reason_required": _("Say why the lead stays in nurture."),
        "reason_too_long": _("The text is too long (at most 500 characters)."),
        "not_qualifiable": _("The lead cannot be handed to sales: %(why)s", why=error.message),
    }
    return texts.get(error.code, error.message)


@bp.get("/sales/reviews")
@requires(roles.HANDRAISERS_REVIEW)
def reviews_list() -> Any:
    """The hand-raisers held for review, one status at a time."""
    filters = ReviewFilters(request.args)
    status = filters.status.data or "open"
    valid = filters.validate() and status in REVIEW_STATUSES
    status = status if valid else "open"
    after = reviews.decode_after(filters.after.data) if valid else None
    now = utcnow()
    with transaction(runtime().sessions) as session:
        listing = reviews.list_reviews(session, status=status, limit=PAGE_SIZE, after=after)
        counts = reviews.review_counts(session)
        rows = [reviews.review_json(row, lead, now) for row, lead in listing.rows]
    return page(
        "ui/sales/reviews.html",
        status=200 if valid else 400,
        current=status,
        statuses=REVIEW_STATUSES,
        labels=STATUS_LABELS,
        counts={
            "open": counts["in_review"],
            "sent": counts["sent"],
            "dismissed": counts["dismissed"],
        },
        rows=rows,
        next_after=listing.next_after,
        paged=after is not None,
    )


def _show(review_id: int, *, status: int = 200, **forms: Any) -> Any:
    """One review item's page (``forms`` replace the empty ones, e.g. one with errors)."""
    now = utcnow()
    with transaction(runtime().sessions) as session:
        try:
            row = reviews.get_review(session, review_id)
        except HandoffError:
            return page(
                "ui/error.html",
                status=404,
                title=_("Not found"),
                message=_("There is no hand-raiser review %(id)d.", id=review_id),
            )
        lead = session.get(Lead, row.lead_id)
        assert lead is not None
        item = reviews.review_json(row, lead, now)
        fit_reasons = [] if lead.erased_at else [r.get("text", "") for r in lead.fit_reasons or ()]
        erased = lead.erased_at is not None
    return page(
        "ui/sales/review.html",
        status=status,
        item=item,
        erased=erased,
        fit_reasons=fit_reasons,
        labels=STATUS_LABELS,
        send_form=forms.get("send_form") or SendForm(formdata=None),
        dismiss_form=forms.get("dismiss_form") or DismissForm(formdata=None),
    )


@bp.get("/sales/reviews/<int:review_id>")
@requires(roles.HANDRAISERS_REVIEW)
def review(review_id: int) -> Any:
    """One hand-raiser held for review, and how to resolve it."""
    check_id(review_id)
    return _show(review_id)


@bp.post("/sales/reviews/<int:review_id>/send")
@requires(roles.HANDRAISERS_REVIEW)
def review_send(review_id: int) -> Any:
    """Send the hand-raiser to sales anyway: handed off like a ready lead, the fit shown."""
    check_id(review_id)
    form = SendForm()
    if not form.validate_on_submit():
        return _show(review_id, status=422, send_form=form)
    try:
        with transaction(runtime().sessions) as session:
            done = reviews.send_to_sales(
                session, review_id, actor=current_user.actor, now=utcnow(), note=form.note.data
            )
            handoff_id = done.handoff_id
    except HandoffError as error:
        if error.status == 404:
            return _show(review_id)
        flash(_refusal(error), "error")
        return _show(review_id, status=error.status if error.status >= 400 else 409)
    flash(
        _("Sent to sales: handoff %(id)s was created and its owner told.", id=handoff_id), "success"
    )
    return redirect(url_for("ui_sales.reviews_list"))


@bp.post("/sales/reviews/<int:review_id>/dismiss")
@requires(roles.HANDRAISERS_REVIEW)
def review_dismiss(review_id: int) -> Any:
    """Keep nurturing the hand-raiser, with the reason."""
    check_id(review_id)
    form = DismissForm()
    if not form.validate_on_submit():
        return _show(review_id, status=422, dismiss_form=form)
    try:
        with transaction(runtime().sessions) as session:
            reviews.dismiss(
                session, review_id, actor=current_user.actor, reason=form.reason.data, now=utcnow()
            )
    except HandoffError as error:
        if error.status == 404:
            return _show(review_id)
        if error.code in ("reason_required", "reason_too_long"):
            form.reason.errors = [_refusal(error)]
            return _show(review_id, status=422, dismiss_form=form)
        flash(_refusal(error), "error")
        return _show(review_id, status=error.status if error.status >= 400 else 409)
    flash(_("Dismissed: the lead stays in nurture and your reason is recorded."), "success")
    return redirect(url_for("ui_sales.reviews_list"))

"""Sales: the rep's inbox and a handoff's page, with the rep's verdicts (docs/web/sales.md).

- ``GET /sales``: the signed-in user's handoffs (matched to a rep of the team file by
  email): waiting for a verdict (with the SLA countdown), open deals, closed.
- ``GET /sales/handoffs/<id>``: everything the notification email carries, what happened
  since, and the actions the reader may take.
- ``POST /sales/handoffs/<id>/accept|reject|outcome``: the same use cases as the links in
  the email, ``nurture handoffs …`` and the API (``nurture.handoff.verdicts``), acting as
  the signed-in rep; a sales manager may act for the owner.

The manager's views (team SLA, rejections, open handoffs, reassign) are in
``nurture.web.ui.sales_team`` on the same blueprint, and marketing's review queue of
hand-raisers in ``nurture.web.ui.reviews``.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from nurture.auth import roles
from nurture.handoff import verdicts
from nurture.handoff.model import HandoffError
from nurture.handoff.reps import find_rep
from nurture.models import SalesRep
from nurture.platform.db import transaction, utcnow
from nurture.reports.sales import (
    HandoffDetail,
    RepInfo,
    decode_after,
    handoff_detail,
    inbox_counts,
    reject_reasons,
    rep_for_user,
    team_currency,
    team_reps,
)
from nurture.reports.sales import inbox as inbox_page
from nurture.web.ui import (
    reviews,  # noqa: F401  (marketing's review queue: its routes)
    sales_team,  # noqa: F401  (the manager's views: their routes)
)
from nurture.web.ui.render import page
from nurture.web.ui.sales_common import bp, check_id, refusal
from nurture.web.ui.sales_forms import (
    AcceptForm,
    InboxFilters,
    OutcomeForm,
    ReassignForm,
    RejectForm,
)
from nurture.web.ui.security import requires, runtime

__all__ = ["bp"]


@bp.get("/sales")
@requires(roles.SALES_OWN)
def inbox() -> Any:
    """The signed-in rep's handoffs, one tab at a time."""
    filters = InboxFilters(request.args)
    valid = filters.validate()
    tab = filters.tab.data if valid and filters.tab.data else "waiting"
    after = decode_after(filters.after.data) if valid else None
    now = utcnow()
    with transaction(runtime().sessions) as session:
        me = rep_for_user(session, current_user.email)
        if me is None:
            return page("ui/sales/no_rep.html", status=200)
        counts = inbox_counts(session, me.id, now)
        listing = inbox_page(session, me.id, tab, after=after)
    return page(
        "ui/sales/inbox.html",
        status=200 if valid else 400,
        me=me,
        tab=tab,
        counts=counts,
        listing=listing,
        first_page=after is not None,
        filters=filters,
        now=now,
    )


def _forms(
    session: Session, detail: HandoffDetail, *, reject: RejectForm | None = None
) -> dict[str, Any]:
    """The forms of a handoff's page, with the team file's choices."""
    outcome = OutcomeForm(formdata=None, currency=team_currency(session))
    return {
        "accept_form": AcceptForm(formdata=None),
        "reject_form": (reject or RejectForm(formdata=None)).offer(reject_reasons(session)),
        "outcome_form": outcome,
        "reassign_form": ReassignForm(formdata=None).offer(
            team_reps(session), exclude=detail.row.owner.id if detail.row.owner else None
        ),
    }


def _show(handoff_id: int, *, status: int = 200, **forms: Any) -> Any:
    """A handoff's page (``forms`` replace the empty ones, e.g. one with errors)."""
    with transaction(runtime().sessions) as session:
        detail = handoff_detail(session, handoff_id)
        if detail is None:
            return page(
                "ui/error.html",
                status=404,
                title=_("Not found"),
                message=_("There is no handoff %(id)d.", id=handoff_id),
            )
        me = rep_for_user(session, current_user.email)
        context = _forms(session, detail, reject=forms.pop("reject_form", None))
    context.update(forms)
    return page(
        "ui/sales/handoff.html",
        status=status,
        detail=detail,
        row=detail.row,
        snap=detail.snapshot,
        me=me,
        mine=_is_mine(detail, me),
        may_manage=current_user.may(roles.SALES_MANAGE),
        now=utcnow(),
        **context,
    )


def _is_mine(detail: HandoffDetail, me: RepInfo | None) -> bool:
    owner = detail.row.owner
    return me is not None and (owner is None or owner.id == me.id)


@bp.get("/sales/handoffs/<int:handoff_id>")
@requires(roles.SALES_OWN)
def handoff(handoff_id: int) -> Any:
    """A handoff in full: the notification's content, its log and the actions."""
    return _show(check_id(handoff_id))


def _acting(session: Session, handoff_id: int) -> tuple[SalesRep | None, str]:
    """Who acts, for the use case: the signed-in rep (whom the use case checks against the
    owner), or for a sales manager on someone else's handoff nobody (the use case then acts
    as the owner) with the manager named in the log."""
    actor = f"user:{current_user.email}"
    me = rep_for_user(session, current_user.email)
    detail = handoff_detail(session, handoff_id)
    if detail is None:
        raise HandoffError("not_found", f"no handoff {handoff_id}", status=404)
    owner = detail.row.owner
    if me is not None and (owner is None or owner.id == me.id):
        return find_rep(session, me.id), actor
    if current_user.may(roles.SALES_MANAGE) and owner is not None:
        return None, actor
    if me is None:
        raise HandoffError(
            "not_a_rep",
            _("You are not in the sales team file, so you cannot act on handoffs."),
        )
    return find_rep(session, me.id), actor


def _refused(handoff_id: int, error: HandoffError) -> Any:
    """The handoff's page again, saying why nothing changed (an error status: the change
    did not happen, so it is not audited as one)."""
    if error.status == 404:
        return _show(handoff_id)  # the not-found page
    flash(refusal(error), "error")
    return _show(handoff_id, status=error.status if error.status >= 400 else 409)


@bp.post("/sales/handoffs/<int:handoff_id>/accept")
@requires(roles.SALES_OWN)
def accept(handoff_id: int) -> Any:
    """Accept the lead: stage sal, the rep owns the lead; the SLA clock stops."""
    check_id(handoff_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _show(handoff_id, status=400)
    try:
        with transaction(runtime().sessions) as session:
            rep, actor = _acting(session, handoff_id)
            done = verdicts.accept(session, handoff_id, rep=rep, actor=actor, now=utcnow())
            name = (done.snapshot or {}).get("lead", {}).get("name") or _("The lead")
            owner = done.decided_by
    except HandoffError as error:
        return _refused(handoff_id, error)
    if rep is None:
        flash(_("Accepted for %(owner)s, the owner.", owner=owner), "success")
    else:
        flash(
            _("Accepted: %(name)s is yours. The suggested next step is below.", name=name),
            "success",
        )
    return redirect(url_for("ui_sales.handoff", handoff_id=handoff_id))


@bp.post("/sales/handoffs/<int:handoff_id>/reject")
@requires(roles.SALES_OWN)
def reject(handoff_id: int) -> Any:
    """Give the lead back to marketing with a reason from the team file and a note."""
    check_id(handoff_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _show(handoff_id, status=422, reject_form=form)
    try:
        with transaction(runtime().sessions) as session:
            rep, actor = _acting(session, handoff_id)
            verdicts.reject(
                session,
                handoff_id,
                reason=form.reason.data,
                note=form.note.data,
                rep=rep,
                actor=actor,
                now=utcnow(),
            )
    except HandoffError as error:
        if error.code == "unknown_reason":
            form.reason.errors = [refusal(error)]
            return _show(handoff_id, status=422, reject_form=form)
        return _refused(handoff_id, error)
    flash(_("Rejected: the lead is back with marketing and your reason is counted."), "success")
    return redirect(url_for("ui_sales.inbox"))


@bp.post("/sales/handoffs/<int:handoff_id>/outcome")
@requires(roles.SALES_OWN)
def outcome(handoff_id: int) -> Any:
    """Record how far the deal got: SQL, opportunity, won (with its value) or lost (why)."""
    check_id(handoff_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _show(handoff_id, status=422, outcome_form=form)
    try:
        with transaction(runtime().sessions) as session:
            rep, actor = _acting(session, handoff_id)
            done = verdicts.convert(
                session,
                handoff_id,
                outcome=form.outcome.data,
                value=form.amount,
                currency=(form.currency.data or "").strip() or None,
                reason=form.lost_reason.data,
                rep=rep,
                actor=actor,
                now=utcnow(),
            )
            result = done.outcome
    except HandoffError as error:
        if error.code == "bad_value":
            form.value.errors = [_("The value must be an amount above zero.")]
            return _show(handoff_id, status=422, outcome_form=form)
        if error.code == "bad_outcome":
            form.outcome.errors = [error.message]
            return _show(handoff_id, status=422, outcome_form=form)
        return _refused(handoff_id, error)
    messages = {
        "won": _("Won. Congratulations: the lead is a customer now."),
        "lost": _("Lost: the lead is back with marketing, and the reason is kept."),
    }
    flash(messages.get(result or "", _("The outcome is recorded.")), "success")
    return redirect(url_for("ui_sales.handoff", handoff_id=handoff_id))


@bp.post("/sales/handoffs/<int:handoff_id>/reassign")
@requires(roles.SALES_MANAGE)
def reassign(handoff_id: int) -> Any:
    """Give an open handoff to another rep (a new handoff; the old links stop working)."""
    check_id(handoff_id)
    # The open handoffs' page has a form per row, each field named after its handoff.
    prefix = f"r{handoff_id}"
    form = ReassignForm(prefix=prefix if f"{prefix}-back" in request.form else "")
    back_to_team = form.back.data == "team"
    with transaction(runtime().sessions) as session:
        form.offer(team_reps(session))
    if not form.validate_on_submit():
        if back_to_team:
            flash(_("Choose the rep who takes the lead; nothing was changed."), "error")
            return redirect(url_for("ui_sales.team_open"))
        return _show(handoff_id, status=422, reassign_form=form)
    try:
        with transaction(runtime().sessions) as session:
            target = find_rep(session, int(form.rep.data))
            assert target is not None
            new = verdicts.reassign(
                session,
                handoff_id,
                to=target,
                reason=(form.reason.data or "").strip()
                or _("reassigned by %(name)s", name=current_user.name),
                actor=f"user:{current_user.email}",
                now=utcnow(),
            )
            new_id, name = new.id, target.name
    except HandoffError as error:
        if back_to_team:
            flash(refusal(error), "error")
            return redirect(url_for("ui_sales.team_open"))
        if error.code in ("rep_unavailable", "same_owner", "unknown_rep"):
            form.rep.errors = [refusal(error)]
            return _show(handoff_id, status=422, reassign_form=form)
        return _refused(handoff_id, error)
    flash(_("Reassigned to %(name)s, who is notified now.", name=name), "success")
    if back_to_team:
        return redirect(url_for("ui_sales.team_open"))
    return redirect(url_for("ui_sales.handoff", handoff_id=new_id))

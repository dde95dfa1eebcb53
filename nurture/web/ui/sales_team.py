"""Sales: the sales manager's views (docs/web/sales.md#the-sales-managers-view).

- ``GET /sales/team?days=30``: the team's SLA compliance per rep, sales' answers and the
  rejections by reason in the period, the latest rejections with their notes.
- ``GET /sales/team/open?rep=&sla=``: every open handoff with its owner and SLA state, each
  with a reassign form (``POST /sales/handoffs/<id>/reassign``, in ``sales``).
- ``GET /sales/team/rejections?days=&reason=&rep=``: every rejection of the period with
  its reason and note.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import request

from nurture.auth import roles
from nurture.platform.db import transaction, utcnow
from nurture.reports.sales import decode_after, reject_reasons, team_reps
from nurture.reports.sales_team import open_handoffs, rejection_summary, rejections, sla_report
from nurture.web.ui.render import page
from nurture.web.ui.sales_common import bp
from nurture.web.ui.sales_forms import OpenFilters, ReassignForm, RejectionFilters, TeamFilters
from nurture.web.ui.security import requires, runtime

# How many of the latest rejections the overview lists (the rest: the rejections page).
LATEST = 10


@bp.get("/sales/team")
@requires(roles.SALES_MANAGE)
def team() -> Any:
    """The team's SLA compliance and why sales gives leads back, over a period."""
    filters = TeamFilters(request.args)
    valid = filters.validate()
    days = filters.period
    now = utcnow()
    since = now - timedelta(days=days)
    with transaction(runtime().sessions) as session:
        sla = sla_report(session, since=since)
        summary = rejection_summary(session, since=since)
        latest = rejections(session, since=since, limit=LATEST)
        open_overdue = open_handoffs(session, now=now, sla="overdue", limit=LATEST)
        unowned = open_handoffs(session, now=now, unowned=True, limit=LATEST)
        labels = {reason.id: reason.label for reason in reject_reasons(session)}
    return page(
        "ui/sales/team.html",
        status=200 if valid else 400,
        filters=filters,
        days=days,
        sla=sla,
        summary=summary,
        latest=latest,
        open_overdue=open_overdue,
        unowned=unowned,
        labels=labels,
        now=now,
    )


@bp.get("/sales/team/open")
@requires(roles.SALES_MANAGE)
def team_open() -> Any:
    """Every open handoff with its owner and SLA state, to reassign."""
    now = utcnow()
    with transaction(runtime().sessions) as session:
        reps = team_reps(session)
        filters = OpenFilters(request.args).offer(reps)
        valid = filters.validate()
        rep = filters.rep.data if valid else ""
        listing = open_handoffs(
            session,
            now=now,
            rep_id=int(rep) if rep and rep.isdigit() else None,
            unowned=rep == "none",
            sla=(filters.sla.data or None) if valid else None,
            after=decode_after(filters.after.data) if valid else None,
        )
    forms = {
        row.id: ReassignForm(formdata=None, prefix=f"r{row.id}", back="team").offer(
            reps, exclude=row.owner.id if row.owner else None
        )
        for row in listing.rows
    }
    args = {key: value for key, value in request.args.items() if key != "after"}
    return page(
        "ui/sales/team_open.html",
        status=200 if valid else 400,
        filters=filters,
        listing=listing,
        forms=forms,
        args=args if valid else {},
        paged=bool(request.args.get("after")) and valid,
        now=now,
    )


@bp.get("/sales/team/rejections")
@requires(roles.SALES_MANAGE)
def team_rejections() -> Any:
    """Every rejection of the period, latest first, with reason and note."""
    now = utcnow()
    with transaction(runtime().sessions) as session:
        reasons = reject_reasons(session)
        filters = RejectionFilters(request.args).offer(reasons, team_reps(session))
        valid = filters.validate()
        days = filters.period
        rep = filters.rep.data if valid else ""
        listing = rejections(
            session,
            since=now - timedelta(days=days),
            reason=(filters.reason.data or None) if valid else None,
            rep_id=int(rep) if rep and rep.isdigit() else None,
            after=decode_after(filters.after.data) if valid else None,
        )
    args = {key: value for key, value in request.args.items() if key != "after"}
    return page(
        "ui/sales/team_rejections.html",
        status=200 if valid else 400,
        filters=filters,
        days=days,
        listing=listing,
        labels={reason.id: reason.label for reason in reasons},
        args=args if valid else {},
        paged=bool(request.args.get("after")) and valid,
        now=now,
    )

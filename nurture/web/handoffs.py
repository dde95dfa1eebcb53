"""The pages behind the signed links of a handoff notification (``/handoffs/<signed>…``).

- ``GET /handoffs/<signed>``: the lead in short, with Accept / Reject buttons.
- ``GET /handoffs/<signed>/accept``: a confirm page; ``POST`` accepts (CSRF-checked).
- ``GET /handoffs/<signed>/reject``: the reason form; ``POST`` rejects (CSRF-checked).

A ``POST`` another site made a browser send (its ``Origin``, or without one its
``Referer``, names another site: ``nurture.web.origin``) is refused with a 403 page before
anything is read.

``GET`` never changes anything: mail security scanners open every link in an email, so a
"one-click" accept must be one click on the page, not the link itself. A tampered link is
refused without a query; an expired one, one whose lead was reassigned, a double accept or
an unknown reason get a clear page and change nothing. Pages are autoescaped, carry no
external assets, and are sent ``no-store`` with a ``same-origin`` referrer policy since their
URL is a credential (``same-origin``, not ``no-referrer``: with no referrer at all, browsers
send ``Origin: null`` on the page's own form posts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.consent.brand import current_brand
from nurture.handoff import lookup, verdicts
from nurture.handoff.context import snapshot_time
from nurture.handoff.links import HandoffLinks
from nurture.handoff.model import HandoffError
from nurture.handoff.notification import Words, present
from nurture.handoff.reps import find_rep
from nurture.handoff.team_parser import DEFAULT_REASONS
from nurture.handoff.team_sync import active_team
from nurture.models import Handoff, SalesRep
from nurture.platform.db import transaction, utcnow
from nurture.platform.i18n import N_, shipped_locales, translations
from nurture.platform.pages import PAGE_HEADERS, page_language, page_templates, render_page
from nurture.platform.runtime import Runtime
from nurture.qualification import reasons_as_of
from nurture.sending.kinds import recipient_locales
from nurture.web.origin import from_another_site, origin_of

bp = Blueprint("handoffs", __name__, url_prefix="/handoffs")

_pages = page_templates("nurture.web")
# The signed URL still reaches no other site; the page's own form posts carry its origin.
_HEADERS = {**PAGE_HEADERS, "Referrer-Policy": "same-origin"}
_FORM_SALT = "nurture.handoff-form"
# A page left open for a working day still works; a scraped form token does not for long.
_FORM_MAX_AGE = 24 * 3600


_STATUS_TEXT: dict[str, str] = {
    "offered": N_("waiting for the owner"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "converted": N_("converted"),
    "reassigned": N_("reassigned"),
}


def _(message: str, **values: Any) -> str:
    """``message`` in the page's language (the catalogue), ``values`` filled in."""
    text = translations(_language()).gettext(message)
    return text % values if values else text


def _language() -> str:
    """The rep's own language when the link names a rep who has set one (set by the view),
    else the browser's preference among the shipped translations."""
    wanted = g.get("nurture_reader_locale") or request.accept_languages.best_match(
        shipped_locales()
    )
    return page_language(wanted, _runtime().settings.default_locale)


def _remember_reader(session: Session, claim: Any, handoff: Handoff | None) -> None:
    rep_id = (claim.rep_id if claim is not None else None) or (handoff and handoff.rep_id)
    rep = session.get(SalesRep, rep_id) if rep_id else None
    if rep is not None:
        found = recipient_locales(session, {rep.email})
        g.nurture_reader_locale = found.get(rep.email.lower())


def _runtime() -> Runtime:
    return current_app.extensions["nurture"]


@bp.before_request
def _read_brand() -> None:
    # The brand's company name heads every page. Read before the view opens its
    # transaction: on SQLite a second session would wait for that one's write lock.
    runtime = _runtime()
    with runtime.sessions() as session:
        g.nurture_company = current_brand(session, runtime.settings).company_name


@bp.before_request
def _refuse_posts_from_other_sites() -> Response | None:
    if request.method != "POST":
        return None
    urls = (request.host_url, _runtime().settings.public_url)
    own = {origin for origin in map(origin_of, urls) if origin is not None}
    if not from_another_site(request.headers.get("Origin"), request.headers.get("Referer"), own):
        return None
    return _message(
        _("This form was sent from another site"),
        _(
            "Nothing was changed. Open the link in the notification email again and use the "
            "buttons on its page."
        ),
        status=403,
        ok=False,
    )


def _page(name: str, status: int = 200, **context: Any) -> Response:
    language = _language()
    html = render_page(_pages, name, language, company=g.nurture_company, **context)
    headers = {**_HEADERS, "Content-Language": language.replace("_", "-")}
    return Response(html, status=status, mimetype="text/html", headers=headers)


def _message(title: str, message: str, *, status: int = 200, ok: bool = True) -> Response:
    return _page("handoff_message.html", status, title=title, message=message, ok=ok, detail=None)


def _error(error: HandoffError) -> Response:
    titles = {
        "invalid_link": _("This link is not valid"),
        "expired": _("This link has expired"),
        "reassigned": _("This lead was reassigned"),
    }
    title = titles.get(error.code) or _("Nothing was changed")
    return _message(title, _refusal(error), status=error.status, ok=False)


def _refusal(error: HandoffError) -> str:
    """Why the link or the form was refused, in the page's language: the use cases' own
    messages are English (the CLI and the API show them), so each refusal these pages can
    meet has its sentence here, filled in from the error's facts."""
    facts = error.facts
    day = _day(facts.get("day"))
    if error.code == "reassigned" and facts.get("name") and day:
        return _(
            "This lead was reassigned to %(name)s on %(day)s; nothing was changed.",
            name=facts["name"],
            day=day,
        )
    dated = {
        "expired": N_(
            "This link expired on %(day)s. Open the lead from the sales pages of the web app, "
            "or ask the sales manager."
        ),
        "already_accepted": N_("This lead was already accepted on %(day)s; nothing was changed."),
        "already_rejected": N_("This lead was already rejected on %(day)s; nothing was changed."),
        "already_converted": N_(
            "This lead's outcome was already recorded on %(day)s; nothing was changed."
        ),
    }
    if error.code in dated and day:
        return _(dated[error.code], day=day)
    texts = {
        "invalid_link": N_(
            "The link was changed or cut short. Open it again from the notification email."
        ),
        "expired": N_("This link has expired. Open the lead from the sales pages of the web app."),
        "reassigned": N_("This lead was reassigned to another rep; nothing was changed."),
        "already_accepted": N_("This lead was already accepted; nothing was changed."),
        "already_rejected": N_("This lead was already rejected; nothing was changed."),
        "already_converted": N_("This lead's outcome was already recorded; nothing was changed."),
        "not_owner": N_(
            "This lead is offered to another rep, not to you; nothing was changed. "
            "A sales manager can reassign it."
        ),
        "owner_required": N_("Choose the rep who takes this lead."),
        "unknown_reason": N_("Choose one of the reasons offered."),
        "unknown_rep": N_("That rep is not in the sales team."),
        "csrf": N_("The form expired or did not come from this page; reload it and try again."),
    }
    return _(texts.get(error.code, N_("This lead cannot be changed now; nothing was changed.")))


def _day(moment: Any) -> str | None:
    """A decision's or expiry's day as the page's language writes dates."""
    if not isinstance(moment, datetime):
        return None
    return str(format_date(moment, "long", locale=_language().replace("-", "_")))


def _forms() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_runtime().settings.secret_key, salt=_FORM_SALT)


def _form_ok(token: str) -> bool:
    try:
        return _forms().loads(request.form.get("csrf_token", ""), max_age=_FORM_MAX_AGE) == token
    except BadSignature:
        return False


def _links() -> HandoffLinks:
    settings = _runtime().settings
    return HandoffLinks(settings.secret_key, settings.public_url)


def _show(signed: str, mode: str) -> Response:
    claim = _links().read(signed)
    now = utcnow()
    with _runtime().sessions() as session:
        # A refused link that still names its rep (expired) speaks the rep's language.
        _remember_reader(session, claim, None)
        try:
            handoff = lookup.handoff_for_link(session, claim, now)
        except HandoffError as error:
            return _error(error)
        assert claim is not None
        _remember_reader(session, claim, handoff)
        snapshot = handoff.snapshot or {}
        owner = session.get(SalesRep, handoff.rep_id) if handoff.rep_id else None
        team = active_team(session)
        reps: list[SalesRep] = []
        if handoff.rep_id is None and claim.rep_id is None:
            reps = list(
                session.scalars(
                    select(SalesRep)
                    .where(SalesRep.in_team.is_(True), SalesRep.active.is_(True))
                    .order_by(SalesRep.name)
                )
            )
        can_act = handoff.status == "offered" or (mode == "reject" and handoff.status == "accepted")
        # Why now and the next step in the reader's words, as the notification says them.
        shown = present(snapshot, now, Words(_language()), details_url="")
        return _page(
            "handoff.html",
            mode=mode,
            handoff=handoff,
            lead=snapshot.get("lead")
            or {"name": _("lead %(id)s", id=handoff.lead_id), "email": ""},
            why=_why_as_of(snapshot.get("why"), handoff.qualification_rule, now),
            why_now=shown["why_now"],
            next_step=shown["next_step"],
            owner=owner.name if owner else None,
            status_text=_(_STATUS_TEXT[handoff.status])
            if handoff.status in _STATUS_TEXT
            else handoff.status,
            can_act=can_act,
            reps=reps,
            reasons=team.reject_reasons if team else DEFAULT_REASONS,
            csrf=_forms().dumps(handoff.token),
            base=f"/handoffs/{signed}",
        )


def _why_as_of(why: dict[str, Any] | None, rule: str, now: datetime) -> dict[str, Any]:
    """Why the lead qualified, its relative times ("5 min ago") as of the page view: the
    snapshot wrote them when the lead was handed over, and a rep may open the page days
    later."""
    if not why:
        return {"rule": rule, "reasons": []}
    hand_raised_at = snapshot_time(why.get("hand_raised_at"))
    return {**why, "reasons": reasons_as_of(why.get("reasons") or [], hand_raised_at, now)}


@bp.route("/<signed>", methods=["GET", "HEAD"])
def view(signed: str) -> Response:
    """The lead in short, with Accept and Reject buttons (changes nothing)."""
    return _show(signed, "view")


@bp.route("/<signed>/accept", methods=["GET", "HEAD"])
def accept_page(signed: str) -> Response:
    """Confirm the accept (changes nothing)."""
    return _show(signed, "accept")


@bp.route("/<signed>/reject", methods=["GET", "HEAD"])
def reject_page(signed: str) -> Response:
    """The reject form (changes nothing)."""
    return _show(signed, "reject")


def _posted_handoff(session: Session, claim: Any, now: datetime) -> Handoff:
    """The handoff a link's form was posted for, once its CSRF token checks out."""
    handoff = lookup.handoff_for_link(session, claim, now)
    if not _form_ok(handoff.token):
        raise HandoffError(
            "csrf",
            "the form expired or did not come from this page; reload it and try again",
            status=400,
        )
    return handoff


@bp.post("/<signed>/accept")
def accept_post(signed: str) -> Response:
    """Accept the lead for the rep the link was sent to (or the rep chosen by a manager)."""
    claim = _links().read(signed)
    try:
        with transaction(_runtime().sessions) as session:
            now = utcnow()
            _remember_reader(session, claim, None)
            handoff = _posted_handoff(session, claim, now)
            _remember_reader(session, claim, handoff)
            rep = _acting_rep(session, claim, handoff)
            verdicts.accept(session, handoff.id, rep=rep, now=now)
            lead_name = (handoff.snapshot or {}).get("lead", {}).get("name") or _("The lead")
    except HandoffError as error:
        return _error(error)
    return _message(
        _("Accepted"),
        _("%(name)s is yours. The next step is in the notification email.", name=lead_name),
    )


@bp.post("/<signed>/reject")
def reject_post(signed: str) -> Response:
    """Reject the lead with a reason from the team file and an optional note."""
    claim = _links().read(signed)
    try:
        with transaction(_runtime().sessions) as session:
            now = utcnow()
            _remember_reader(session, claim, None)
            handoff = _posted_handoff(session, claim, now)
            _remember_reader(session, claim, handoff)
            rep = _acting_rep(session, claim, handoff, required=False)
            verdicts.reject(
                session,
                handoff.id,
                reason=request.form.get("reason", ""),
                note=request.form.get("note"),
                rep=rep,
                now=now,
            )
    except HandoffError as error:
        return _error(error)
    return _message(
        _("Rejected"),
        _("Thank you: the lead is back with marketing and your reason is counted."),
    )


def _acting_rep(
    session: Any, claim: Any, handoff: Handoff, *, required: bool = True
) -> SalesRep | None:
    if claim.rep_id is not None:
        return session.get(SalesRep, claim.rep_id)
    chosen = request.form.get("rep", "").strip()
    if not chosen:
        if required and handoff.rep_id is None:
            raise HandoffError("owner_required", "choose the rep who takes this lead", status=422)
        return None
    return find_rep(session, chosen)

"""Signing in and out, forgotten passwords, set-password links, and one's own password.

- ``/login``: email and password; failed attempts are rate-limited per client address
  (``NURTURE_LOGIN_RATE_LIMIT``) and all fail the same way, whatever was wrong.
- ``/password/forgot``: asks for an address and always answers the same (no account
  discovery); an active account gets a one-hour reset link by email.
- ``/password/set/<token>``: the page behind a reset or invitation link (one use).
- ``/account``: who am I, and change my password (signs out the other sessions).
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from nurture.auth import links, roles, users
from nurture.auth.passwords import password_problem, verify_password
from nurture.models import User
from nurture.platform.db import transaction, utcnow
from nurture.sending.delivery import DeliveryResult
from nurture.sending.direct import build_direct_message, send_now
from nurture.web.ui.i18n import available_locales
from nurture.web.ui.render import has_page, page, page_brand
from nurture.web.ui.security import ANY_ROLE, SignedInUser, public, requires, runtime, safe_next

bp = Blueprint("ui_account", __name__)


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotForm(FlaskForm):
    """The address to send a reset link to."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=320)])


class NewPasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    """The current password, then a new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        with transaction(runtime().sessions) as session:
            user = users.authenticate(session, form.email.data, form.password.data, now=utcnow())
            signed_in = SignedInUser.of(user) if user else None
        if signed_in is not None:
            login_user(signed_in, remember=bool(form.remember.data))
            return redirect(_landing(signed_in, request.args.get("next")))
        form.password.errors.append(_("The email or password is not right."))
    return page("ui/login.html", form=form, status=200 if request.method == "GET" else 401)


def _landing(user: SignedInUser, target: str | None) -> str:
    if target:
        return safe_next(target)
    # Each role lands where its work is: sales on its inbox, others on the overview.
    if user.may(roles.REPORTS_VIEW):
        return url_for("ui_home.index")
    if user.may(roles.SALES_OWN) and has_page("ui_sales.inbox"):
        return url_for("ui_sales.inbox")
    return url_for("ui_account.account")


@bp.post("/logout")
@requires(ANY_ROLE)
def logout() -> Any:
    """Sign out (a POST with the CSRF token: a link could be triggered by another site)."""
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("ui_account.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot() -> Any:
    """Ask for a reset link."""
    form = ForgotForm()
    if form.validate_on_submit():
        with transaction(runtime().sessions) as session:
            user = users.find_user(session, form.email.data)
            if user is not None and not user.active:
                user = None
        # Mailed after the lookup's transaction: the outbox writes in its own, and SQLite
        # has one writer at a time.
        if user is not None:
            send_password_link(user, links.RESET)
        # The same answer whether or not the address has an account.
        flash(
            _("If that address has an account, a link to set a new password is on its way."),
            "info",
        )
        return redirect(url_for("ui_account.login"))
    return page("ui/forgot.html", form=form)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
@public
def set_password(token: str) -> Any:
    """The page behind a reset or invitation link."""
    settings = runtime().settings
    form = NewPasswordForm()
    email = None
    with transaction(runtime().sessions) as session:
        user = links.user_for_token(session, settings.secret_key, token, now=utcnow())
        if user is not None and form.validate_on_submit():
            problem = password_problem(form.password.data, email=user.email)
            if problem is None:
                users.set_password(
                    session, user, form.password.data, actor=f"user:{user.id}", now=utcnow()
                )
                flash(_("Your password is set. Sign in with it now."), "success")
                return redirect(url_for("ui_account.login"))
            form.password.errors.append(problem)
        email = user.email if user is not None else None
    # Rendered after the transaction: the page reads the signed-in user and the brand in
    # sessions of its own, which SQLite would make wait for this one's write lock.
    if email is None:
        return page("ui/link_invalid.html", status=404)
    return page("ui/set_password.html", form=form, email=email)


class DigestForm(FlaskForm):
    """The weekly digest, on or off."""

    weekly_digest = BooleanField(_l("Email me the weekly digest of the reports (Mondays)"))


def _digest_form() -> DigestForm | None:
    # Only roles that read reports get the digest, so only they are offered it.
    if not current_user.may(roles.REPORTS_VIEW):
        return None
    with runtime().sessions() as session:
        user = session.get(User, current_user.id)
        wanted = bool(user and user.weekly_digest)
    return DigestForm(formdata=None, weekly_digest=wanted)


class LanguageForm(FlaskForm):
    """The language of the app and of the emails the product writes to this person."""

    locale = SelectField(_l("Language"), validate_choice=True)


def _language_form(chosen: str | None, formdata: Any = None) -> LanguageForm:
    form = LanguageForm(formdata=formdata, locale=chosen or "")
    # Each language named in itself: a person who cannot read the current page's
    # language still finds their own.
    form.locale.choices = [("", _("The browser's language"))] + [
        (code, Locale.parse(code).get_display_name(code) or code) for code in available_locales()
    ]
    return form


@bp.post("/account/language")
@requires(ANY_ROLE)
def language() -> Any:
    """Choose one's language (or go back to the browser's)."""
    form = _language_form(None, request.form)
    if form.validate_on_submit():
        with transaction(runtime().sessions) as session:
            users.set_locale(
                session,
                current_user.email,
                form.locale.data or None,
                actor=current_user.actor,
                now=utcnow(),
            )
        # Said in the language just chosen: the page it leads to speaks it already.
        browser = request.accept_languages.best_match(available_locales())
        with force_locale(form.locale.data or browser or available_locales()[0]):
            flash(_("Your language is saved."), "success")
    return redirect(url_for("ui_account.account"))


@bp.post("/account/digest")
@requires(roles.REPORTS_VIEW)
def digest() -> Any:
    """Turn one's weekly report digest on or off."""
    form = DigestForm()
    if form.validate_on_submit():
        wanted = bool(form.weekly_digest.data)
        with transaction(runtime().sessions) as session:
            users.set_weekly_digest(
                session, current_user.email, wanted, actor=current_user.actor, now=utcnow()
            )
        flash(
            _("You will get the weekly digest on Mondays.")
            if wanted
            else _("The weekly digest is off."),
            "success",
        )
    return redirect(url_for("ui_account.account"))


@bp.route("/account", methods=["GET", "POST"])
@requires(ANY_ROLE)
def account() -> Any:
    """One's own account: name, role, and a password change."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with transaction(runtime().sessions) as session:
            user = session.get(User, current_user.id)
            assert user is not None
            if not verify_password(user.password_hash, form.current.data):
                form.current.errors.append(_("This is not your current password."))
            elif (problem := password_problem(form.password.data, email=user.email)) is not None:
                form.password.errors.append(problem)
            else:
                users.set_password(
                    session, user, form.password.data, actor=current_user.actor, now=utcnow()
                )
                refreshed = SignedInUser.of(user)
        if not form.errors:
            # The fingerprint changed: this session carries on, every other one ends.
            login_user(refreshed)
            flash(_("Your password is changed; other sessions are signed out."), "success")
            return redirect(url_for("ui_account.account"))
    return page(
        "ui/account.html",
        form=form,
        digest_form=_digest_form(),
        language_form=_language_form(current_user.locale),
        status=422 if form.errors else 200,
    )


def send_password_link(user: User, kind: str) -> str:
    """Email ``user`` a set-password link of ``kind`` and return the link.

    Call it outside any open transaction (the mail is stored or sent in its own); ``user``
    may be detached, its loaded attributes are enough.
    """
    return send_password_link_for(user, kind)[0]


def send_password_link_for(user: User, kind: str) -> tuple[str, DeliveryResult]:
    """Email ``user`` a set-password link of ``kind``; the link and what the mail server
    answered (the settings pages show both: an admin can hand the link over by hand).
    Outside any open transaction, like :func:`send_password_link`."""
    settings = runtime().settings
    company = page_brand().company_name
    link = password_link(user, kind)
    if kind == links.INVITE:
        subject = _("Your %(company)s account", company=company)
        intro = _("An account was opened for you. Choose a password to sign in:")
    else:
        subject = _("Set a new password for %(company)s", company=company)
        intro = _("Someone (hopefully you) asked to reset your password. Choose a new one:")
    hours = int(links.LIFETIMES[kind].total_seconds() // 3600)
    text = "\n\n".join(
        [
            intro,
            link,
            _("The link works once and for %(hours)d hours.", hours=hours),
            _("If you did not ask for this, ignore this email; nothing changes."),
        ]
    )
    data = build_direct_message(settings, to=user.email, subject=subject, text=text)
    result = send_now(settings, runtime().sessions, to=user.email, subject=subject, data=data)
    return link, result


def password_link(user: User, kind: str) -> str:
    """The absolute set-password link of ``kind`` for ``user``."""
    settings = runtime().settings
    token = links.password_token(settings.secret_key, user, kind)
    return settings.public_url + url_for("ui_account.set_password", token=token)

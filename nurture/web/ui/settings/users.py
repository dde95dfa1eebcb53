"""``/settings/users``: accounts and roles, through the use cases of ``nurture users``
(nurture.auth.users), the last-admin guard included.

A new account has no password: the person gets a one-time link by email to choose one,
and the admin sees the same link once (for instances that send no email)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from nurture.auth import links, roles, users
from nurture.models import User
from nurture.platform.config import ConfigError
from nurture.platform.db import transaction, utcnow
from nurture.reports.settings import user_by_id
from nurture.reports.settings import users as user_rows
from nurture.sending.delivery import DeliveryResult
from nurture.web.ui.account import password_link, send_password_link_for
from nurture.web.ui.render import page
from nurture.web.ui.security import requires, runtime
from nurture.web.ui.settings.blueprint import MAX_ID, bp, not_found
from nurture.web.ui.settings.forms import NewUserForm, RoleForm

_USER = f"<int(max={MAX_ID}):user_id>"


@bp.get("/settings/users")
@requires(roles.SETTINGS_MANAGE)
def users_index() -> Any:
    """Every account, and the form to invite one."""
    return _list(NewUserForm())


def _list(form: NewUserForm, status: int = 200) -> Any:
    with transaction(runtime().sessions) as session:
        rows = user_rows(session)
    return page("ui/settings/users.html", rows=rows, form=form, status=status)


@bp.post("/settings/users")
@requires(roles.SETTINGS_MANAGE)
def users_create() -> Any:
    """Open an account and show its invitation link once."""
    form = NewUserForm()
    if not form.validate_on_submit():
        return _list(form, 422)
    try:
        with transaction(runtime().sessions) as session:
            user = users.create_user(
                session,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                password=None,
                actor=current_user.actor,
                now=utcnow(),
            )
    except users.UserError as exc:
        form.email.errors = [*form.email.errors, str(exc)]
        return _list(form, 422)
    # After the commit: an invitation leaves only for an account that exists.
    link, result = _invite(user)
    return page(
        "ui/settings/user_link.html", email=user.email, user_id=user.id, link=link,
        result=result, created=True,
    )  # fmt: skip


def _invite(user: User) -> tuple[str, DeliveryResult]:
    # Called with no transaction open (the email reads the brand in a session of its own).
    # A mail server that refuses still leaves the admin with the link on screen.
    kind = links.INVITE if user.password_hash is None else links.RESET
    try:
        return send_password_link_for(user, kind)
    except (ConfigError, OSError, ValueError) as exc:
        failed = DeliveryResult("temporary", None, str(exc) or type(exc).__name__)
        return password_link(user, kind), failed


@bp.get(f"/settings/users/{_USER}")
@requires(roles.SETTINGS_MANAGE)
def user_show(user_id: int) -> Any:
    """One account: its role, state and actions."""
    return _show(user_id, RoleForm())


def _show(user_id: int, form: RoleForm, status: int = 200, problem: str | None = None) -> Any:
    with transaction(runtime().sessions) as session:
        row = user_by_id(session, user_id)
    if row is None:
        return not_found(_("user"))
    if not form.is_submitted() or form.role.data is None:
        form.role.data = row.role
    return page("ui/settings/user.html", user=row, form=form, problem=problem, status=status)


@bp.post(f"/settings/users/{_USER}/role")
@requires(roles.SETTINGS_MANAGE)
def user_role(user_id: int) -> Any:
    """Give the account another role (never the last active admin's)."""
    form = RoleForm()
    if not form.validate_on_submit():
        return _show(user_id, form, 422)
    return _change(user_id, form, lambda s, email, now: users.change_role(
        s, email, form.role.data or "", actor=current_user.actor, now=now
    ), _("The role is changed."))  # fmt: skip


@bp.post(f"/settings/users/{_USER}/disable")
@requires(roles.SETTINGS_MANAGE)
def user_disable(user_id: int) -> Any:
    """Stop the account from signing in (never the last active admin)."""
    return _change(user_id, RoleForm(), lambda s, email, now: users.disable_user(
        s, email, actor=current_user.actor, now=now
    ), _("The account is disabled; its sessions have ended."))  # fmt: skip


@bp.post(f"/settings/users/{_USER}/enable")
@requires(roles.SETTINGS_MANAGE)
def user_enable(user_id: int) -> Any:
    """Let a disabled account sign in again."""
    return _change(user_id, RoleForm(), lambda s, email, now: users.enable_user(
        s, email, actor=current_user.actor, now=now
    ), _("The account is enabled."))  # fmt: skip


def _change(user_id: int, form: RoleForm, action: Any, done: str) -> Any:
    try:
        with transaction(runtime().sessions) as session:
            user = session.get(User, user_id)
            if user is not None:
                action(session, user.email, utcnow())
    except users.UserError as exc:
        if form.is_submitted() and form.role.data:
            form.role.errors = [*form.role.errors, str(exc)]
            return _show(user_id, form, 422)
        return _show(user_id, form, 422, problem=str(exc))
    if user is None:
        return not_found(_("user"))
    flash(done, "success")
    return redirect(url_for("ui_settings.user_show", user_id=user_id))


@bp.post(f"/settings/users/{_USER}/invite")
@requires(roles.SETTINGS_MANAGE)
def user_invite(user_id: int) -> Any:
    """Send a new set-password link (an invitation, or a reset once a password is set)."""
    with transaction(runtime().sessions) as session:
        user = session.get(User, user_id)
    if user is None:
        return not_found(_("user"))
    if not user.active:
        return _show(user_id, RoleForm(), 422, problem=_("Enable the account first."))
    link, result = _invite(user)
    return page(
        "ui/settings/user_link.html", email=user.email, user_id=user_id, link=link,
        result=result, created=False,
    )  # fmt: skip

"""User accounts: create, list, change role, disable and enable, set a password, sign in.

Each use case runs in the caller's transaction and writes an audit row (``user.created``,
``user.role_changed``, …) naming the user by id, never by address, and who did it.
The last active admin can be neither disabled nor demoted, so an instance can never lock
its administrators out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from nurture.auth.roles import REPORTS_VIEW, check_role, may
from nurture.consent import audit
from nurture.models import User
from nurture.platform.addresses import normalise_email
from nurture.platform.i18n import LocaleError, normalise_locale


class UserError(ValueError):
    """A refused change to a user account; nothing was changed. The message is for people."""


def find_user(session: Session, email: str) -> User | None:
    """The account with this address (any case), or None."""
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    return session.scalar(select(User).where(User.email == address))


def list_users(session: Session) -> list[User]:
    """Every account, active ones first, then by address."""
    return list(session.scalars(select(User).order_by(User.disabled_at.is_not(None), User.email)))


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    actor: str,
    now: datetime,
) -> User:
    """A new account. Without a password it cannot sign in until one is set."""
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise UserError(f"{email!r} is not a valid email address: {exc}") from None
    try:
        check_role(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not name.strip():
        name = address.split("@")[0]
    if len(name) > 200:
        raise UserError("the name is too long (at most 200 characters)")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise UserError(f"a user {address} exists already")
    user = User(email=address, name=name.strip(), role=role, created_at=now)
    if password is not None:
        _set_hash(user, password, now)
    session.add(user)
    session.flush()
    _audit(session, "user.created", user, actor, now, role=role)
    return user


def set_password(session: Session, user: User, password: str, *, actor: str, now: datetime) -> None:
    """Replace the account's password (checked against the policy first)."""
    _set_hash(user, password, now)
    _audit(session, "user.password_set", user, actor, now)


def change_role(session: Session, email: str, role: str, *, actor: str, now: datetime) -> User:
    """Give the account another role."""
    user = _existing(session, email)
    try:
        check_role(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if user.role == "admin" and role != "admin":
        _keep_an_admin(session, user)
    before, user.role = user.role, role
    _audit(session, "user.role_changed", user, actor, now, before=before, role=role)
    return user


def disable_user(session: Session, email: str, *, actor: str, now: datetime) -> User:
    """Stop the account from signing in (its history stays)."""
    user = _existing(session, email)
    if user.disabled_at is None:
        if user.role == "admin":
            _keep_an_admin(session, user)
        user.disabled_at = now
        _audit(session, "user.disabled", user, actor, now)
    return user


def enable_user(session: Session, email: str, *, actor: str, now: datetime) -> User:
    """Let a disabled account sign in again."""
    user = _existing(session, email)
    if user.disabled_at is not None:
        user.disabled_at = None
        _audit(session, "user.enabled", user, actor, now)
    return user


def set_weekly_digest(
    session: Session, email: str, wanted: bool, *, actor: str, now: datetime
) -> User:
    """Turn the weekly report digest on or off for the account. Only a role that may read
    reports can receive it (``reports.view``)."""
    user = _existing(session, email)
    if wanted and not may(user.role, REPORTS_VIEW):
        raise UserError(f"the role {user.role!r} does not read reports: no digest for it")
    if user.weekly_digest != wanted:
        user.weekly_digest = wanted
        _audit(session, "user.digest_" + ("on" if wanted else "off"), user, actor, now)
    return user


def set_locale(
    session: Session, email: str, locale: str | None, *, actor: str, now: datetime
) -> User:
    """Set the language of the account's emails and pages (a BCP 47 tag; None: the
    instance's default). Raises UserError for a language Babel does not know."""
    user = _existing(session, email)
    try:
        wanted = normalise_locale(locale) if locale else None
    except LocaleError as exc:
        raise UserError(str(exc)) from exc
    if user.locale != wanted:
        user.locale = wanted
        _audit(session, "user.locale", user, actor, now, locale=wanted or "")
    return user


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """The active account these credentials open, or None. An unknown address, a disabled
    account and a wrong password take the same time and give the same answer."""
    user = find_user(session, email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def _existing(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise UserError(f"no user {email!r}")
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.disabled_at.is_(None), User.id != user.id)
    )
    if not others:
        raise UserError(f"{user.email} is the last active admin; make another admin first")


def _set_hash(user: User, password: str, now: datetime) -> None:
    problem = password_problem(password, email=user.email)
    if problem:
        raise UserError(f"that password cannot be used: {problem}")
    user.password_hash = hash_password(password)
    user.password_changed_at = now


def _audit(
    session: Session, action: str, user: User, actor: str, now: datetime, **detail: str
) -> None:
    audit.record(
        session,
        action=action,
        lead_id=None,
        email_hash=None,
        detail={"user_id": user.id, **detail},
        actor=actor,
        now=now,
    )

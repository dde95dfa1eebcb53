"""Who may do what in the web app: sign-in sessions, the permission check on every page,
CSRF, the sign-in rate limit, security headers and the audit row of every change.

Every view of the app is decorated with :func:`requires` (a permission of
:mod:`nurture.auth.roles`) or :func:`public` (the sign-in and password pages). The test
``tests/integration/web/test_route_security.py`` walks the app's ``url_map`` and fails on a
view that is neither, so a new page cannot ship unguarded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, current_app, make_response, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from nurture.auth import links, roles
from nurture.consent import audit
from nurture.models import User
from nurture.platform.config import Settings
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Pages hold leads' personal data and run only the app's own files: scripts, styles, images
# and frames from this origin, nothing inline, no plug-ins, and no framing by other sites.
# The email preview is the one exception (its own, stricter policy: see campaigns' preview).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    # Pages show personal data: never kept by a shared cache or the browser's disk cache.
    "Cache-Control": "no-store",
}

login_manager = LoginManager()
login_manager.login_view = "ui_account.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
# "basic": a session cookie copied to another browser is flagged non-fresh, not dropped
# ("strong" would sign people out whenever their address changes, e.g. on mobile).
login_manager.session_protection = "basic"
csrf = CSRFProtect()


@dataclass(frozen=True)
class SignedInUser(UserMixin):
    """The person behind the request, as the views see it (detached from any session)."""

    id: int
    email: str
    name: str
    role: str
    fingerprint: str
    # The language the person chose for the app and their emails (None: the browser's).
    locale: str | None = None

    def get_id(self) -> str:
        """The session's reference: id and fingerprint, so a password change or disabling
        the account ends every other session at its next request."""
        return f"{self.id}:{self.fingerprint}"

    def may(self, permission: str) -> bool:
        """True when this user's role grants ``permission``."""
        return roles.may(self.role, permission)

    @property
    def actor(self) -> str:
        """How the audit log names this user (by id: the log outlives an erased address)."""
        return f"user:{self.id}"

    @classmethod
    def of(cls, user: User) -> SignedInUser:
        """The view of a stored account."""
        return cls(user.id, user.email, user.name, user.role, links.fingerprint(user), user.locale)


class Anonymous(AnonymousUserMixin):
    """Nobody signed in: may do nothing."""

    role = ""

    def may(self, permission: str) -> bool:
        """Always False."""
        return False


login_manager.anonymous_user = Anonymous


@login_manager.user_loader
def _load_user(reference: str) -> SignedInUser | None:
    user_id, _, fingerprint = reference.partition(":")
    if not user_id.isdigit():
        return None
    with transaction(runtime().sessions) as session:
        user = session.get(User, int(user_id))
        if user is None or not user.active:
            return None
        signed_in = SignedInUser.of(user)
    return signed_in if signed_in.fingerprint == fingerprint else None


def runtime() -> Runtime:
    """The Runtime of the app serving this request."""
    return cast(Runtime, current_app.extensions["nurture"])


def public(view: F) -> F:
    """Mark a view open to anyone (the sign-in and password pages)."""
    view.public = True  # type: ignore[attr-defined]
    return view


# For the pages every signed-in person has (their own account, signing out).
ANY_ROLE = "any role"


def requires(permission: str, *, audit_changes: bool = True) -> Callable[[F], F]:
    """Guard a view: anonymous users are sent to sign in, users whose role lacks
    ``permission`` (a permission of :mod:`nurture.auth.roles`, or ``ANY_ROLE``) get 403, and
    a successful change (any method but GET/HEAD/OPTIONS) writes an audit row: who, which
    page, which object, when. ``audit_changes=False`` is for POSTs that change nothing
    (an editor's check as one types), which would otherwise fill the log."""
    if permission != ANY_ROLE and permission not in roles.ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permission != ANY_ROLE and not current_user.may(permission):
                abort(403)
            # Read before the view runs: signing out forgets who it was.
            actor = current_user.actor
            response = make_response(view(*args, **kwargs))
            if audit_changes and request.method not in SAFE_METHODS and response.status_code < 400:
                _audit_change(actor, kwargs)
            return response

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return cast(F, guarded)

    return decorate


def _audit_change(actor: str, view_args: dict[str, Any]) -> None:
    # Its own transaction, after the view's committed: the row says the change happened.
    # View arguments are ids and keys, never form contents (which may hold personal data).
    with transaction(runtime().sessions) as session:
        audit.record(
            session,
            action=f"app.{request.endpoint}",
            lead_id=None,
            email_hash=None,
            detail={"method": request.method, **{k: str(v) for k, v in view_args.items()}},
            actor=actor,
            now=utcnow(),
        )


def session_config(settings: Settings) -> dict[str, Any]:
    """The session and remember-me cookies' settings (Flask config keys).

    Flask's own defaults already hold these keys (SameSite unset, cookie "session"), so
    they are applied as values, before any explicit configuration, not as defaults.
    """
    # Secure cookies need HTTPS; an instance served on plain http (the demo on 127.0.0.1)
    # would otherwise never keep a session.
    secure = settings.public_url.startswith("https://")
    return {
        "SESSION_COOKIE_NAME": "nurture_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "REMEMBER_COOKIE_NAME": "nurture_remember",
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        # A form left open for a working day still submits.
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    }


def init_security(app: Flask, runtime: Runtime) -> Limiter:
    """Sessions, CSRF, headers and the rate limiter on ``app``; returns the limiter.

    The cookies' settings come from :func:`session_config`, applied by the app factory.
    """
    settings = runtime.settings
    login_manager.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_url)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    app.extensions["nurture.limiter"] = limiter
    return limiter


def limit_failures(limiter: Limiter, app: Flask, endpoint: str, limit: str) -> None:
    """Rate-limit the POSTs of ``endpoint`` per client address, counting only refused
    attempts (a page shown again with an error: status 200 or 4xx), never a success."""
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(  # type: ignore[assignment]
        limit,
        methods=["POST"],
        deduct_when=lambda response: response.status_code < 300 or response.status_code >= 400,
    )(view)


def add_page_headers(response: Response) -> Response:
    """The security headers of every page of the app (not of the API or tracking)."""
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    # Browsers drop tabs and newlines inside a URL ("/<tab>/evil.example" is
    # "//evil.example", another site), and a newline cannot go in a header: a path of
    # this site, as the sign-in link makes it, is percent-encoded and holds neither.
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not any(char.isspace() or not char.isprintable() for char in target)
    ):
        return target
    return url_for("ui_home.index")


def to_sign_in() -> Response:
    """A redirect to the sign-in page that comes back here afterwards."""
    return cast(Response, redirect(url_for("ui_account.login", next=request.full_path)))

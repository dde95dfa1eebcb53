"""The web app's pages: for marketers, sales and admins (docs/web.md).

Server-rendered Jinja pages, autoescaped, every string translatable, every asset served by
the app itself (``nurture/web/static``). Each page calls the same use cases as the CLI and
the API; no rule lives here.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from nurture.platform.runtime import Runtime
from nurture.web.ui import (
    account,
    accounts,
    authoring,
    authoring_backtest,  # noqa: F401  (adds the backtest beside the editors to ui_authoring)
    authoring_new,  # noqa: F401  (adds the new-file page to ui_authoring)
    authoring_preview,  # noqa: F401  (adds the previews and test sends to ui_authoring)
    authoring_variants,  # noqa: F401  (adds the templates' language variants to ui_authoring)
    campaigns,
    costs,
    home,
    imports,
    leads,
    reports,
    sales,
    settings,
)
from nurture.web.ui.formatting import init_formatting
from nurture.web.ui.forms import control_attributes
from nurture.web.ui.i18n import init_i18n
from nurture.web.ui.labels import init_labels
from nurture.web.ui.render import page, prefetch_brand, role_label
from nurture.web.ui.security import csrf, init_security, limit_failures

# Blueprints that guard themselves: the JSON API (API keys), the public tracking and
# unsubscribe endpoints (RFC 8058 one-click POSTs come from mail clients, without a
# session), and the handoff pages behind signed links (their own form tokens).
CSRF_EXEMPT = ("api", "tracking", "handoffs")

BLUEPRINTS = (
    account.bp,
    home.bp,
    campaigns.bp,
    authoring.bp,
    leads.bp,
    accounts.bp,
    imports.bp,
    sales.bp,
    reports.bp,
    costs.bp,
    settings.bp,
)


def init_ui(app: Flask, runtime: Runtime) -> None:
    """Install the pages, sign-in, CSRF, the rate limiter and translations on ``app``."""
    limiter = init_security(app, runtime)
    init_i18n(app)
    init_labels(app)
    init_formatting(app)
    app.jinja_env.globals["control_attributes"] = control_attributes
    app.jinja_env.globals["role_label"] = role_label
    app.before_request(prefetch_brand)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for name, registered in app.blueprints.items():
        if name.split(".")[0] in CSRF_EXEMPT:
            csrf.exempt(registered)
    limit = runtime.settings.login_rate_limit
    for endpoint in ("ui_account.login", "ui_account.forgot", "ui_account.set_password"):
        limit_failures(limiter, app, endpoint, limit)
    _register_error_pages(app)


def _is_page_request() -> bool:
    return not request.path.startswith(("/api/", "/t/"))


def _register_error_pages(app: Flask) -> None:
    # Lazy: translated in each request's language, not once at start-up.
    titles = {
        400: _l("The request was not understood"),
        403: _l("Not allowed"),
        404: _l("Not found"),
        405: _l("Not allowed"),
        413: _l("Too large"),
        429: _l("Too many attempts"),
    }

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response:
        return page(
            "ui/error.html",
            status=400,
            title=_("The form has expired"),
            message=_("Nothing was saved. Go back, reload the page and submit it again."),
        )

    # The JSON API answers routing errors under /api (an unknown URL, a wrong method) with
    # app-wide handlers (nurture.web.errors), registered before these replace them: every
    # request that is not a page's goes back to them.
    earlier = {code: dict(app.error_handler_spec[None][code]) for code in (400, 404, 405)}

    def not_for_pages(exc: HTTPException) -> Response | HTTPException:
        for cls in type(exc).__mro__:
            handler = earlier.get(exc.code or 0, {}).get(cls)
            if handler is not None:
                return cast(Response | HTTPException, handler(exc))
        return exc

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(429)
    @app.errorhandler(413)
    def client_error(exc: HTTPException) -> Response | HTTPException:
        if not _is_page_request():
            return not_for_pages(exc)
        code = exc.code or 400
        messages = {
            400: _("Nothing was changed. Go back, check what you entered and try again."),
            403: _("Your role does not give access to this page. An admin can change it."),
            404: _("There is nothing at this address: it may have been deleted or mistyped."),
            405: _("This page cannot be used this way. Go back and use its form or link."),
            413: _("What was sent is too large; nothing was saved."),
            429: _("Too many attempts from this address. Wait a while and try again."),
        }
        response = page(
            "ui/error.html",
            status=code,
            title=titles.get(code, _("Error")),
            message=messages.get(code, exc.description or ""),
        )
        # What the exception says besides its page (Allow on 405, Retry-After on 429).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers.setdefault(name, value)
        return response

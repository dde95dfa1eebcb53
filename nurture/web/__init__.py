"""The web layer: the Flask app factory. Flask lives here and in tracking/, never in the core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from nurture import wiring
from nurture.platform.config import Settings
from nurture.platform.runtime import Runtime
from nurture.web import (
    api_accounts,  # noqa: F401  (GET /api/v1/accounts/<domain>)
    api_costs,  # noqa: F401  (cost entries: list, put, delete)
    api_enrollments,  # noqa: F401  (adds its routes to the API)
    api_events,  # noqa: F401  (POST /api/v1/events)
    api_handoffs,  # noqa: F401  (handoffs: list, show, accept, reject, convert)
    api_openapi,  # noqa: F401  (GET /api/v1/openapi.json, public)
    api_privacy,  # noqa: F401  (lead export and erasure)
    api_reports,  # noqa: F401  (the funnel and cohort reports)
    api_reports_attribution,  # noqa: F401  (GET /api/v1/reports/attribution)
    api_reports_campaigns,  # noqa: F401  (email and campaign results)
    api_reports_clv,  # noqa: F401  (GET /api/v1/reports/clv)
    api_reports_costs,  # noqa: F401  (cost per lead, MQL and customer)
    api_reports_feedback,  # noqa: F401  (the sales feedback loop report)
    api_reports_roi,  # noqa: F401  (GET /api/v1/reports/roi)
    api_reports_volume,  # noqa: F401  (new leads per day, week or month)
    api_revenue,  # noqa: F401  (an account's revenue entries)
    api_reviews,  # noqa: F401  (the review queue of hand-raisers)
    api_scoring,  # noqa: F401  (lead score explained, timeline)
    api_validation,  # noqa: F401  (JSON bodies checked against the OpenAPI document)
)
from nurture.web.api import bp as api_bp
from nurture.web.api_input import IdConverter, SafeJSONProvider
from nurture.web.handoffs import bp as handoffs_bp
from nurture.web.ui import init_ui
from nurture.web.ui.security import session_config
from tracking import bp as tracking_bp
from tracking.fast_path import TrackingFastPath


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: API, tracking and the pages for marketers, sales and admins, on one
    WSGI app.

    ``test_config`` may hold ``NURTURE_SETTINGS`` (a ready Settings object) and any Flask
    config values; otherwise settings come from the environment.
    """
    wiring.connect()
    app = Flask(__name__, template_folder="ui/templates")
    app.session_interface = _CookieOnlySessionInterface()
    test_config = dict(test_config or {})
    settings = test_config.pop("NURTURE_SETTINGS", None) or Settings.from_env()
    app.config.update(SECRET_KEY=settings.secret_key, **session_config(settings))
    # JSON bodies are parsed with the API's limits (depth, NUL, surrogates, 64-bit numbers),
    # and <int:…> ids in routes are 1 to 2^31 - 1: anything else is a 404, not an overflow.
    app.json = SafeJSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.config.update(test_config)
    runtime = Runtime.from_settings(settings)
    app.extensions["nurture"] = runtime

    app.register_blueprint(tracking_bp)
    # The open pixel and click redirect are answered before Flask's request handling.
    app.wsgi_app = TrackingFastPath(app.wsgi_app, runtime, app.extensions)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        # Outermost, so every hit, consent and API call sees the client's address: the
        # machine rules recognise proxies and scanners by their networks.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    _register_optional_blueprints(app)
    # The pages for people (sign-in, CSRF, rate limit, translations): after the other
    # blueprints, so it can exempt the ones that guard themselves from CSRF.
    init_ui(app, runtime)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


class _CookieOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the work for requests that carry no cookie.

    Flask builds a signing serializer for every request to open its session, even when
    there is no session cookie to read: measurable on the tracking endpoints, which never
    carry one (py-spy: ~4 % of a serving process's GIL time under load).
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session without a cookie; otherwise the cookie's, as Flask reads it."""
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _register_optional_blueprints(app: Flask) -> None:
    app.register_blueprint(api_bp)

    # The pages behind the signed accept/reject links of handoff notifications.
    app.register_blueprint(handoffs_bp)


def runtime_of(app: Flask) -> Runtime:
    """The Runtime the app was built with."""
    return app.extensions["nurture"]

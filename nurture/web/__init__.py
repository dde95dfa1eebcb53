"""The web layer: the Flask app factory. Flask lives here and in tracking/, never in the core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from nurture.config import Settings
from nurture.runtime import Runtime


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: API, tracking and (later) the marketer/sales UI on one WSGI app.

    ``test_config`` may hold ``NURTURE_SETTINGS`` (a ready Settings object) and any Flask
    config values; otherwise settings come from the environment.
    """
    app = Flask(__name__)
    test_config = dict(test_config or {})
    settings = test_config.pop("NURTURE_SETTINGS", None) or Settings.from_env()
    app.config.update(SECRET_KEY=settings.secret_key)
    # Keep JSON keys in the order the API builds them (id, email, names…), not sorted.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.update(test_config)
    runtime = Runtime.from_settings(settings)
    app.extensions["nurture"] = runtime

    from tracking import bp as tracking_bp

    app.register_blueprint(tracking_bp)
    _register_optional_blueprints(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _register_optional_blueprints(app: Flask) -> None:
    from nurture.web import (
        api_accounts,  # noqa: F401  (GET /api/v1/accounts/<domain>)
        api_enrollments,  # noqa: F401  (adds its routes to the API)
        api_events,  # noqa: F401  (POST /api/v1/events)
        api_handoffs,  # noqa: F401  (handoffs: list, show, accept, reject, convert)
        api_privacy,  # noqa: F401  (lead export and erasure)
        api_scoring,  # noqa: F401  (lead score explained, timeline)
    )
    from nurture.web.api import bp as api_bp

    app.register_blueprint(api_bp)

    from nurture.web.handoffs import bp as handoffs_bp

    # The pages behind the signed accept/reject links of handoff notifications.
    app.register_blueprint(handoffs_bp)


def runtime_of(app: Flask) -> Runtime:
    """The Runtime the app was built with."""
    return app.extensions["nurture"]

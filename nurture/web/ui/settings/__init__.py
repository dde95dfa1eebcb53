"""The admin's settings (permission ``settings.manage``): users and roles, API keys,
webhooks, sending (test, DNS records, warm-up, suppression list), the brand and the
audit log (docs/web/settings.md). One blueprint, ``ui_settings``; a module per section."""

from nurture.web.ui.settings import (  # noqa: F401  (each adds its views to the blueprint)
    audit,
    brand,
    keys,
    overview,
    sending,
    users,
    webhooks,
)
from nurture.web.ui.settings.blueprint import bp

__all__ = ["bp"]

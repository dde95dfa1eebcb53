"""The demo's company: Brightpath Analytics, a fictional revenue-analytics vendor whose
campaigns, templates and sales team ship as the bundled examples.

An instance gets no brand by default (an example address would pass the footer check and
mail leads under another company's name); the demo and the test suite set this one
explicitly, as a real instance sets its own (``NURTURE_COMPANY_NAME``,
``NURTURE_POSTAL_ADDRESS``, ``NURTURE_MAIL_FROM`` or Settings → Brand).
"""

from __future__ import annotations

from nurture.platform.config import Settings

DEMO_BRAND: dict[str, str] = {
    "company_name": "Brightpath Analytics",
    "postal_address": "Brightpath Analytics, 100 Example Street, Springfield, USA",
    "mail_from": "Brightpath Analytics <hello@brightpath.example>",
}


def with_demo_brand(settings: Settings) -> Settings:
    """``settings`` with the demo's brand where they name none of their own."""
    defaults = Settings.__dataclass_fields__
    return settings.with_overrides(
        **{
            key: value
            for key, value in DEMO_BRAND.items()
            if getattr(settings, key) == defaults[key].default
        }
    )

"""The brand reaches the emails: no example company by default, and the brand page's name,
address, colour and logo in what the engine actually sends."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from nurture.consent.brand import set_logo, update_brand
from nurture.platform.config import Settings
from nurture.platform.db import transaction
from nurture.rendering.library import TemplateLibrary
from nurture.sending.outbox import get_outbox_message, list_outbox
from tests.integration.engine_support import (
    T0,
    add_lead,
    enrol,
    sync_fixture_campaigns,
    tick_hourly_until_sent,
)
from tests.integration.web.test_ui_settings_brand import png

BUNDLED = Path(__file__).resolve().parents[3] / "templates"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_fresh_instance_has_no_brand_and_its_campaign_emails_fail_the_footer_check(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({}, instance_path=tmp_path)
    assert (settings.company_name, settings.postal_address) == ("", "")

    problems = TemplateLibrary(BUNDLED).campaign_problems(
        "welcome-guide",
        company_name=settings.company_name,
        postal_address=settings.postal_address,
    )

    messages = [problem.message for problem in problems]
    assert any(m.startswith("no company name is configured") for m in messages), messages
    assert any(m.startswith("no postal address is configured") for m in messages), messages
    assert "NURTURE_POSTAL_ADDRESS" in " ".join(messages)


def test_the_brand_from_the_environment_is_read_and_checked(tmp_path: Path) -> None:
    env = {
        "NURTURE_COMPANY_NAME": "Acme Rockets",
        "NURTURE_BRAND_COLOUR": "0A3D62",
        "NURTURE_LOGO_URL": "https://cdn.acme.example/logo.png",
    }
    settings = Settings.from_env(env, instance_path=tmp_path)
    assert (settings.brand_colour, settings.logo_url) == (
        "#0a3d62",
        "https://cdn.acme.example/logo.png",
    )
    for variable, value in (
        ("NURTURE_BRAND_COLOUR", "navy"),
        ("NURTURE_LOGO_URL", "logo.png"),
    ):
        try:
            Settings.from_env({variable: value}, instance_path=tmp_path)
        except ValueError as error:
            assert variable in str(error)
        else:  # pragma: no cover - the assertion below explains
            raise AssertionError(f"{variable}={value} was accepted")


def test_a_campaign_email_carries_the_brand_pages_name_address_colour_and_logo(runtime) -> None:
    with transaction(runtime.sessions) as session:
        update_brand(
            session,
            company_name="Acme Rockets Sp. z o.o.",
            postal_address="Acme Rockets Sp. z o.o.\nul. Prosta 1\n00-001 Warszawa",
            primary_colour="#0a3d62",
            actor="test",
            now=NOW,
        )
        set_logo(session, png(), actor="test", now=NOW)
    sync_fixture_campaigns(runtime)
    lead_id = add_lead(runtime, "ada@customer.example")
    enrol(runtime, lead_id)

    assert tick_hourly_until_sent(runtime, lead_id, T0) == ["welcome-guide"]

    with runtime.sessions() as session:
        [stored] = list_outbox(session)
        raw = get_outbox_message(session, stored.id).raw
    html = message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()
    words = " ".join(html.split())
    assert "<title> Acme Rockets Sp. z o.o. </title>" in words
    assert "ul. Prosta 1" in words and "00-001 Warszawa" in words
    assert 'src="http://nurture.test/brand/logo?v=' in html
    # The button and the links take the brand's colour, not the app's.
    assert "background:#0a3d62" in html and "color: #0a3d62" in html
    assert "Brightpath Analytics" not in html

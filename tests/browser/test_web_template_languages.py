"""Journey: a Polish team adds a Polish variant to a template that has none, translates it,
saves it and previews it in Polish, on a desktop and on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from nurture.platform.config import PROJECT_ROOT, Settings
from tests.browser.authoring_support import replace_text, wait_for_check
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.web.authoring_support import editable_settings

SHIPPED = PROJECT_ROOT / "templates" / "welcome-guide"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    configured = editable_settings(settings, tmp_path / "files")
    # The template starts with English files only: the journey writes its Polish ones.
    for file in (configured.templates_path / "welcome-guide").glob("*.pl.*"):
        file.unlink()
    return configured


@on_desktop_and_phone
def test_a_marketer_adds_a_polish_variant_and_previews_it_in_polish(
    browser: Any, live_app: LiveApp, settings: Settings, viewport: dict[str, int]
) -> None:
    folder = settings.templates_path / "welcome-guide"
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.goto("/authoring/templates/welcome-guide")
    languages = page.get_by_role("navigation", name="Languages")
    expect(languages.get_by_role("link", name="Default files")).to_have_attribute(
        "aria-current", "page"
    )
    languages.get_by_role("link", name="Add a language").click()

    page.get_by_label("Language code").fill("pl")
    check_page(page)
    page.get_by_role("button", name="Open the editor").click()

    # The editor opens with a copy of the default files, to translate.
    expect(page.get_by_role("heading", name="Template welcome-guide, Polish (pl)")).to_be_visible()
    expect(page.get_by_label("subject.pl.txt", exact=True)).to_have_value(
        (folder / "subject.txt").read_text()
    )
    check_page(page)
    replace_text(page, "subject.pl.txt", (SHIPPED / "subject.pl.txt").read_text())
    replace_text(page, "body.pl.mjml", (SHIPPED / "body.pl.mjml").read_text())
    wait_for_check(page, "No problems")
    page.get_by_role("button", name="Save and make live").click()
    expect(page.get_by_text("Saved welcome-guide.")).to_be_visible()
    assert (folder / "subject.pl.txt").read_text() == (SHIPPED / "subject.pl.txt").read_text()
    assert (folder / "body.pl.mjml").is_file()
    expect(
        page.get_by_role("navigation", name="Languages").get_by_role("link", name="Polish (pl)")
    ).to_have_attribute("aria-current", "page")
    check_page(page)

    # Previewed with the sample lead, in Polish.
    page.get_by_role("button", name="Preview this text").click()
    expect(page.get_by_text("Witamy w Brightpath, Dana")).to_be_visible()
    frame = page.frame_locator("iframe.mobile")
    expect(frame.get_by_text("Dzień dobry, Dana!")).to_be_visible()
    expect(frame.locator("html")).to_have_attribute("lang", "pl")
    check_page(page)

"""Journey: author a campaign step and a template, see a validation error on its line,
preview at both widths, and test-send to oneself (received by a real SMTP server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from nurture.platform.config import Settings
from tests.browser.authoring_support import replace_text, wait_for_check
from tests.browser.web_support import LiveApp, check_page, on_desktop_and_phone, open_signed_in
from tests.integration.web.authoring_support import editable_settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, smtp_sink: Any) -> Settings:
    return editable_settings(settings, tmp_path / "files").with_overrides(smtp_url=smtp_sink.url)


@on_desktop_and_phone
def test_a_marketer_authors_previews_and_test_sends_an_email(
    browser: Any, live_app: LiveApp, settings: Settings, smtp_sink: Any, viewport: dict[str, int]
) -> None:
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.goto("/authoring")
    expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()
    check_page(page)

    # A campaign step naming a template that does not exist: the check marks its line.
    page.get_by_role("link", name="recycle", exact=True).click()
    path = settings.campaigns_path / "recycle.yaml"
    original = path.read_text()
    broken = original.replace("send: recycle-whats-new", "send: recycle-whats-nu")
    replace_text(page, "recycle.yaml", broken)
    wait_for_check(page, "unknown template 'recycle-whats-nu'")
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "- id: whats-new" in text)
    expect(page.locator(".gutter .bad")).to_have_text(str(line))
    check_page(page)

    # Saving is refused while it has the problem; fixed, it is saved and made live.
    page.get_by_role("button", name="Save and make live").click()
    expect(page.get_by_text("cannot be saved until it is fixed").first).to_be_visible()
    assert path.read_text() == original
    edited = original.replace("name: Recycled leads", "name: Recycled leads, gently")
    replace_text(page, "recycle.yaml", edited)
    wait_for_check(page, "No problems")
    page.get_by_role("button", name="Save and make live").click()
    expect(page.get_by_text("Saved recycle.yaml; version 1 is live.")).to_be_visible()
    assert path.read_text() == edited

    # A template: change the subject, preview the unsaved text at both widths.
    page.goto("/authoring/templates/welcome-guide")
    replace_text(page, "subject.txt", "Your guide, {{ lead.first_name or 'friend' }}")
    wait_for_check(page, "No problems")
    page.get_by_role("button", name="Preview this text").click()
    expect(page.get_by_text("Your guide, Dana")).to_be_visible()
    # Retried until the page's stylesheet applies (a loaded machine can be slower than the
    # first look: an unstyled frame is 300 px wide).
    expect(page.locator("iframe.desktop")).to_have_css("width", "600px")
    expect(page.locator("iframe.mobile")).to_have_css("width", "375px")
    frame = page.frame_locator("iframe.mobile")
    expect(frame.get_by_text("Read the starter guide")).to_be_visible()
    check_page(page)

    # The test send goes to the marketer's own address, really delivered.
    page.get_by_role("button", name="Send a test to marketer@example.com").click()
    expect(page.get_by_text("Test email sent to marketer@example.com.")).to_be_visible()
    (message,) = smtp_sink.received
    assert message["Subject"].strip() == "[Test] Your guide, Dana"
    assert message["To"] == "marketer@example.com"

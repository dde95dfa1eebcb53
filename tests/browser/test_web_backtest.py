"""Journey: a marketer edits the readiness rule, backtests the unsaved text against the
saved files on past leads, and reads both side by side (light and dark, desktop and phone)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from nurture.backtest.runs import load_history
from nurture.platform.config import Settings
from nurture.web.ui import authoring_backtest
from nurture.web.ui.authoring_backtest import INLINE_CONFIG
from tests.browser.authoring_support import replace_text, wait_for_check
from tests.browser.web_support import (
    DESKTOP,
    LiveApp,
    assert_accessible,
    check_page,
    on_desktop_and_phone,
    open_signed_in,
)
from tests.integration.web.authoring_support import editable_settings
from tests.integration.web.backtest_support import WARM_RULE, with_history

# Set to a folder (docs/web/img) to keep the desktop screenshot of the results for the docs.
SCREENSHOTS = os.environ.get("NURTURE_DOCS_SCREENSHOTS")


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


@on_desktop_and_phone
def test_a_marketer_backtests_an_edited_readiness_rule_before_saving_it(
    browser: Any, live_app: LiveApp, settings: Settings, viewport: dict[str, int], tmp_path: Path
) -> None:
    with_history(settings)
    saved = settings.readiness_file.read_text()
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.goto("/authoring/files/readiness")
    box = page.get_by_role("region", name="Backtest")
    expect(box.get_by_text("the imported history file, 6 leads")).to_be_visible()
    check_page(page)

    replace_text(page, "readiness.yaml", saved + WARM_RULE)
    wait_for_check(page, "No problems")
    box.get_by_label("From").fill("2026-01-01")
    box.get_by_role("button", name="Backtest this text").click()

    table = page.get_by_role("table", name="Saved files and edited text side by side")
    handed = table.locator("tr", has=page.get_by_role("rowheader", name="Handed over", exact=True))
    expect(handed.get_by_role("cell")).to_have_text(["0", "4", "↑ +4"])
    expect(table.get_by_role("columnheader", name="Saved")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Edited")).to_be_visible()
    expect(page.get_by_role("heading", name="Missed with the edited text (1)")).to_be_visible()
    check_page(page)
    if SCREENSHOTS and viewport == DESKTOP:
        shot = tmp_path / "backtest.png"
        page.screenshot(path=str(shot))
        shutil.copy(shot, Path(SCREENSHOTS) / "backtest.png")
    page.emulate_media(color_scheme="dark")
    assert_accessible(page)

    # Nothing was saved; the edited text comes back into the editor from the results.
    assert settings.readiness_file.read_text() == saved
    page.get_by_role("button", name="Back to the editor with this text").click()
    expect(page.get_by_label("readiness.yaml", exact=True)).to_have_value(saved + WARM_RULE)


def test_a_backtest_run_in_the_background_shows_its_results_when_it_ends(
    browser: Any, live_app: LiveApp, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_history(settings)
    live_app.app.config[INLINE_CONFIG] = 1
    # The run waits until the page has shown its progress (a real history takes long).
    go_on = threading.Event()

    def slow_history(*args: Any) -> Any:
        go_on.wait(30)
        return load_history(*args)

    monkeypatch.setattr(authoring_backtest, "load_history", slow_history)
    page = open_signed_in(browser, live_app, "marketer")
    page.goto("/authoring/files/readiness")
    expect(page.get_by_text("runs in the background")).to_be_visible()

    page.get_by_role("button", name="Backtest this text").click()
    expect(page.get_by_role("status")).to_have_text("Reading the history…")
    check_page(page)
    go_on.set()

    # The page follows the run (progress.js) and reloads itself for the results.
    table = page.get_by_role("table", name="Saved files and edited text side by side")
    expect(table).to_be_visible(timeout=30_000)
    check_page(page)

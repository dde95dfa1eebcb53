"""Journey: a marketing manager reads last quarter's funnel, cohorts and velocity, groups
the tables by source, downloads one as CSV, and reads it all in the dark scheme too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import (
    LiveApp,
    check_page,
    on_desktop_and_phone,
    open_signed_in,
)
from tests.integration.analytics.analytics_support import tell_story


@on_desktop_and_phone
def test_reading_the_funnel_of_a_quarter_and_exporting_a_table(
    browser: Any, live_app: LiveApp, viewport: dict[str, int], tmp_path: Any
) -> None:
    tell_story(live_app.runtime, tmp_path)
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_label("Until (not included)").fill("2026-04-01")
    page.get_by_label("Tables grouped by").select_option(label="Source")
    page.get_by_role("button", name="Show").click()

    funnel = page.locator("#funnel")
    expect(funnel.locator("li", has_text="New leads")).to_contain_text("4")
    expect(funnel.locator("li", has_text="MQL")).to_contain_text("5 · 125.0% of the stage before")
    expect(funnel.get_by_role("row", name="webinar")).to_contain_text("2")
    expect(page.locator("#cohorts table.heat")).to_contain_text("2026-02")
    expect(page.locator("#velocity")).to_contain_text("Sales cycle (first touch → won)")
    check_page(page)

    with page.expect_download() as download_info:
        funnel.get_by_role("link", name="Download this table (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "nurture-funnel-2026-01-01-2026-04-01.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("group,leads,mql,sal")
    assert any(line.startswith("webinar,2,") for line in text.splitlines())

    expect(page.locator("#attribution")).to_contain_text("Revenue by touch")
    page.get_by_role("navigation", name="Reports").get_by_role(
        "link", name="Sales feedback"
    ).click()
    expect(page.get_by_role("heading", name="Sales feedback", level=1)).to_be_visible()
    expect(page.locator("#feedback li").first).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Email and campaign results").click()
    expect(page.get_by_role("heading", name="Email and campaign results", level=1)).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Overview").click()

    # A bad date is named on its field, and the charts wait for a good one.
    page.get_by_label("From").fill("2026-04-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("must be after the start")).to_be_visible()
    expect(page.locator("#funnel")).to_have_count(0)
    check_page(page)


def test_the_charts_read_in_the_dark_scheme(browser: Any, live_app: LiveApp, tmp_path: Any) -> None:
    tell_story(live_app.runtime, tmp_path)
    page = open_signed_in(browser, live_app, "viewer")
    page.emulate_media(color_scheme="dark")
    page.goto("/reports?from=2026-01-01&to=2026-04-01")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 22, 28)"
    expect(page.locator("#funnel li", has_text="Won")).to_contain_text("1")
    # axe checks the contrast of every text, the heat table's shaded cells included.
    check_page(page)


@on_desktop_and_phone
def test_turning_on_the_weekly_digest(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    page = open_signed_in(browser, live_app, "sales-manager", viewport=viewport)
    page.locator(".me a").click()  # the signed-in person's name, in the header
    box = page.get_by_label("Email me the weekly digest of the reports (Mondays)")
    expect(box).not_to_be_checked()
    check_page(page)
    box.check()
    page.get_by_role("region", name="Weekly digest").get_by_role("button", name="Save").click()
    expect(page.get_by_text("You will get the weekly digest on Mondays.")).to_be_visible()
    expect(page.get_by_label("Email me the weekly digest of the reports (Mondays)")).to_be_checked()
    check_page(page)

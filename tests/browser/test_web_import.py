"""Journey: a marketer imports a Polish CSV with the suggested mapping, on a desktop and a
phone."""

from __future__ import annotations

import csv
import io
from typing import Any

from playwright.sync_api import expect

from tests.browser.web_support import (
    LiveApp,
    assert_fits,
    check_page,
    on_desktop_and_phone,
    open_signed_in,
)

POLISH = (
    "Imię;Nazwisko;Adres e-mail;Firma;Stanowisko;Kod rabatowy\r\n"
    "Jan;Kowalski;jan@acme.pl;Acme;Prezes;A1\r\n"
    "Anna;Nowak;anna@acme.pl;Acme;Dyrektor finansowy;B2\r\n"
    "Zła;Linia;to-nie-email;Acme;;C3\r\n"
).encode("cp1250")


@on_desktop_and_phone
def test_a_marketer_imports_a_csv_with_the_suggested_mapping(
    browser: Any, live_app: LiveApp, viewport: dict[str, int]
) -> None:
    page = open_signed_in(browser, live_app, "marketer", viewport=viewport)
    page.goto("/import")
    expect(page.get_by_role("heading", name="Import leads")).to_be_visible()
    check_page(page)

    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "targi.csv", "mimeType": "text/csv", "buffer": POLISH}
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Map the columns of targi.csv")).to_be_visible()
    expect(page.get_by_role("cell", name="Kowalski", exact=True)).to_be_visible()
    # Suggested from the Polish headers; the unknown column is changed by hand.
    expect(page.get_by_label("Column “Adres e-mail” becomes")).to_have_value("email")
    expect(page.get_by_label("Column “Nazwisko” becomes")).to_have_value("last_name")
    page.get_by_label("Column “Kod rabatowy” becomes").select_option("attributes.kod_rabatowy")
    page.get_by_label("Lawful basis for this batch").select_option("legitimate_interest")
    page.get_by_label("I confirm we may contact").check()
    check_page(page)

    page.get_by_role("button", name="Start the import").click()
    expect(page.get_by_role("heading", name="Import of targi.csv")).to_be_visible()
    expect(page.locator("[data-import-badge]")).to_have_text("Done", timeout=15_000)
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    expect(page.locator('[data-progress-count="created"]')).to_have_text("2")
    expect(page.locator('[data-progress-count="rejected"]')).to_have_text("1")
    check_page(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the 1 rejected rows (CSV)").click()
    body = download_info.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[0] == [
        "Imię",
        "Nazwisko",
        "Adres e-mail",
        "Firma",
        "Stanowisko",
        "Kod rabatowy",
        "_line",
        "_reason",
    ]
    assert rows[1][:3] == ["Zła", "Linia", "to-nie-email"] and rows[1][6] == "4"

    page.get_by_role("link", name="Imports", exact=False).first.click()
    expect(page.get_by_role("link", name="targi.csv")).to_be_visible()
    assert_fits(page)

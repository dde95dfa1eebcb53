"""Errors look like the app: an unknown page or id in any area, a wrong method or a bad
request shows the app's own page (navigation, a way back), while the JSON API keeps
answering in JSON."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.integration.web.ui_support import signed_in_client

UNKNOWN = [
    "/no-such-page",
    "/accounts/999999",
    "/accounts/99999999999999999999",
    "/campaigns/no-such-campaign",
    "/campaigns/no-such-campaign/enrolments",
    "/authoring/templates/no-such-template",
    "/authoring/files/no-such-kind",
    "/authoring/preview/no-such-token",
    "/import/999999",
    "/leads/999999",
    "/leads/99999999999999999999",
    "/leads/1/messages/999999",
    "/sales/handoffs/99999999999999999999",
    "/settings/users/99999999999999999999",
]


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_page_or_id_shows_the_apps_not_found_page(app: Flask, path: str) -> None:
    client = signed_in_client(app, "admin")

    response = client.get(path)

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Skip to content" in html and "Not found" in html
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_wrong_method_shows_the_apps_page(app: Flask) -> None:
    client = signed_in_client(app, "admin")

    response = client.put("/leads")

    assert response.status_code == 405
    assert "Skip to content" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


def test_the_api_keeps_answering_its_errors_in_json(app: Flask) -> None:
    client = app.test_client()

    for response, code in (
        (client.get("/api/v1/no-such-thing"), 404),
        (client.put("/api/v1/leads"), 405),
    ):
        assert response.status_code == code
        assert response.is_json, response.get_data(as_text=True)
        assert response.get_json()["error"]

"""The links under a paged list: next carries the cursor and the kept filters, first
appears once the reader has left the first page."""

from __future__ import annotations

from flask import Flask

from nurture.web.ui.paging import page_links


def _app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/things", "things", lambda: "")
    app.add_url_rule("/campaigns/<key>/things", "campaign_things", lambda key: "")
    return app


def test_the_next_link_carries_the_cursor_and_the_filters() -> None:
    with _app().test_request_context():
        links = page_links("things", "2026-12-06T15:00:00+00:00,12", True, q="ann", state=None)
    assert links.next_url == "/things?q=ann&after=2026-12-06T15:00:00%2B00:00,12"
    assert links.first_url == "/things?q=ann"


def test_the_last_page_has_no_next_and_the_first_no_first() -> None:
    with _app().test_request_context():
        assert page_links("things", None, True).next_url is None
        only = page_links("things", 40, False, key="x")
    assert only.first_url is None and only.next_url == "/things?key=x&after=40"


def test_route_values_and_filters_named_like_its_parameters() -> None:
    with _app().test_request_context():
        links = page_links("campaign_things", 3, True, key="welcome", paged="yes", cursor="c")
    assert links.next_url == "/campaigns/welcome/things?paged=yes&cursor=c&after=3"
    assert links.first_url == "/campaigns/welcome/things?paged=yes&cursor=c"

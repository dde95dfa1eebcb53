"""Tracking endpoints driven through Flask's test client: human and machine traffic, the
honeypot, bad tokens, no open redirect, and hits turned into classified events."""

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from nurture.models import Lead, Message, TrackingHit
from nurture.platform.db import transaction
from nurture.tracking.links import LinkSigner
from nurture.tracking.tokens import MessageSigner
from nurture.web import create_app
from tests.integration.tracking_support import (
    CHROME,
    LINKS,
    activate_scoring,
    count,
    events,
    hits,
    lead,
    process,
    send_message,
)
from tracking import PIXEL


@pytest.fixture
def runtime(app):
    return app.extensions["nurture"]


def browser(**headers):
    return {"User-Agent": CHROME, **headers}


# ---------------------------------------------------------------- opens


def test_a_human_open_returns_the_pixel_and_becomes_a_human_open_event(client, runtime):
    sent = send_message(runtime)
    response = client.get(
        sent.pixel, headers=browser(), environ_base={"REMOTE_ADDR": "203.0.113.77"}
    )
    assert response.status_code == 200
    assert response.mimetype == "image/gif"
    assert response.data == PIXEL
    assert "no-store" in response.headers["Cache-Control"]
    (hit,) = hits(runtime)
    assert (hit.kind, hit.token, hit.method, hit.processed) == ("open", sent.token, "GET", False)
    assert hit.ip == "203.0.113.0"  # truncated by default
    assert hit.user_agent == CHROME
    assert events(runtime) == []  # nothing but the INSERT happened in the request

    assert process(runtime) == 1
    (event,) = events(runtime)
    assert (event.type, event.lead_id, event.message_id) == (
        "email.opened",
        sent.lead_id,
        sent.message_id,
    )
    assert (event.is_machine, event.machine_reasons) == (False, [])
    assert hits(runtime)[0].processed


def test_machine_opens_are_recorded_with_their_reasons(client, runtime):
    sent = send_message(runtime)
    client.get(
        sent.pixel,
        headers={"User-Agent": "Mozilla/5.0"},
        environ_base={"REMOTE_ADDR": "17.58.63.12"},
    )
    client.get(
        sent.pixel,
        headers={"User-Agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"},
        environ_base={"REMOTE_ADDR": "66.102.8.33"},
    )
    client.head(sent.pixel, headers=browser())
    client.get(sent.pixel, headers=browser(**{"Sec-Purpose": "prefetch"}))
    process(runtime)
    reasons = [e.machine_reasons for e in events(runtime, "email.opened")]
    assert reasons == [["apple-mpp"], ["google-image-proxy"], ["head-request"], ["prefetch"]]
    assert all(e.is_machine for e in events(runtime))


def test_an_open_seconds_after_delivery_is_a_machine(client, runtime):
    sent = send_message(runtime, sent_ago=timedelta(seconds=2))
    client.get(sent.pixel, headers=browser())
    process(runtime)
    (event,) = events(runtime)
    assert event.machine_reasons == ["too-soon-after-delivery"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p.replace(".gif", "x.gif"),  # tampered signature
        lambda p: p[: len("/t/o/") + 10] + ".gif",  # truncated
        lambda p: p.replace(p[5:27], "A" * 22),  # another token, old signature
    ],
)
def test_a_bad_pixel_token_still_gets_the_image_and_records_nothing(client, runtime, mangle):
    sent = send_message(runtime)
    response = client.get(mangle(sent.pixel), headers=browser())
    assert response.status_code == 200
    assert response.data == PIXEL
    assert count(runtime, TrackingHit) == 0


def test_a_pixel_signed_with_another_secret_records_nothing(client, runtime):
    sent = send_message(runtime)
    foreign = f"/t/o/{MessageSigner('someone-elses-secret').sign(sent.token)}.gif"
    assert client.get(foreign).data == PIXEL
    assert count(runtime, TrackingHit) == 0


# ---------------------------------------------------------------- clicks


def test_a_human_click_redirects_to_the_link_and_scores(client, runtime):
    activate_scoring(runtime)
    sent = send_message(runtime)
    response = client.get(sent.clicks[0], headers=browser())
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LINKS[0]
    # The marketer's site (the From domain by default) gets the identity parameter.
    assert "nv" in parse_qs(location.query)
    assert response.headers["Referrer-Policy"] == "no-referrer"

    process(runtime)
    (click,) = events(runtime, "email.clicked")
    assert (click.is_machine, click.properties["url"], click.properties["link"]) == (
        False,
        LINKS[0],
        0,
    )
    scored = lead(runtime, sent.lead_id)
    assert scored.score_value == pytest.approx(12)
    assert scored.temperature == "warm"


def test_links_to_other_sites_do_not_get_the_identity_parameter(client, runtime):
    sent = send_message(runtime)
    response = client.get(sent.clicks[2], headers=browser())
    assert response.headers["Location"] == LINKS[2]


def test_a_scanner_click_is_kept_as_machine_and_does_not_score(client, runtime):
    activate_scoring(runtime)
    sent = send_message(runtime)
    response = client.get(sent.clicks[0], headers={"User-Agent": "Barracuda Sentinel (EE)"})
    assert response.status_code == 302  # the scanner sees the real page, as a person would
    process(runtime)
    (click,) = events(runtime, "email.clicked")
    assert click.machine_reasons == ["scanner:barracuda"]
    assert lead(runtime, sent.lead_id).score_value == 0


def test_every_link_clicked_within_seconds_marks_all_those_clicks_machine(client, runtime):
    activate_scoring(runtime)
    sent = send_message(runtime)
    client.get(sent.clicks[0], headers=browser())
    client.get(sent.clicks[1], headers=browser())
    process(runtime)  # the first two look human on their own
    assert lead(runtime, sent.lead_id).score_value > 0
    client.get(sent.clicks[2], headers=browser())
    process(runtime)
    clicks = events(runtime, "email.clicked")
    assert [c.machine_reasons for c in clicks] == [["all-links-clicked"]] * 3
    assert lead(runtime, sent.lead_id).score_value == 0  # rescored without them


def test_the_message_keeps_what_a_person_did_and_forgets_clicks_found_to_be_a_machines(
    client, runtime
):
    sent = send_message(runtime)
    client.head(sent.pixel, headers=browser())  # a prefetch: a machine's open
    process(runtime)
    assert engagement(runtime, sent.message_id) == (None, None)
    client.get(sent.clicks[0], headers=browser())
    client.get(sent.clicks[1], headers=browser())
    process(runtime)
    opened, clicked = engagement(runtime, sent.message_id)
    assert opened is not None and opened == clicked  # a click counts as an open
    client.get(sent.clicks[2], headers=browser())  # every link within seconds: a scanner
    process(runtime)
    assert engagement(runtime, sent.message_id) == (None, None)
    client.get(sent.pixel, headers=browser())
    process(runtime)
    opened, clicked = engagement(runtime, sent.message_id)
    assert opened is not None and clicked is None


def engagement(runtime, message_id):
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        return message.opened_at, message.clicked_at


def test_the_honeypot_answers_and_marks_the_messages_clicks_machine(client, runtime):
    sent = send_message(runtime)
    client.get(sent.clicks[0], headers=browser())
    process(runtime)
    response = client.get(sent.honeypot, headers=browser())
    assert response.status_code == 200
    assert "Location" not in response.headers
    process(runtime)
    clicks = events(runtime, "email.clicked")
    assert [(c.properties.get("honeypot", False), c.machine_reasons) for c in clicks] == [
        (False, ["honeypot"]),
        (True, ["honeypot"]),
    ]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p[:-4],  # truncated
        lambda p: p[:-3] + ("AAA" if not p.endswith("AAA") else "BBB"),  # tampered
        lambda p: "/t/c/not-a-token",
    ],
)
def test_a_bad_click_token_gets_a_404_page_and_records_nothing(client, runtime, mangle):
    sent = send_message(runtime)
    response = client.get(mangle(sent.clicks[0]), headers=browser())
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Link not found" in response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert count(runtime, TrackingHit) == 0


def test_a_click_url_cannot_be_pointed_at_another_site(client, runtime):
    sent = send_message(runtime)
    # Re-signing with a guessed secret, or swapping the URL inside the payload, both fail.
    forged = LinkSigner("guess").click_payload(sent.token, 0, 3, "https://evil.example/")
    assert client.get(f"/t/c/{forged}").status_code == 404
    payload = sent.clicks[0].removeprefix("/t/c/")
    body, _, signature = payload.rpartition(".")
    other = LinkSigner("guess").click_payload(sent.token, 0, 3, "https://evil.example/")
    spliced = other.rpartition(".")[0] + "." + signature
    assert client.get(f"/t/c/{spliced}").status_code == 404
    assert body  # the genuine payload still works
    assert client.get(sent.clicks[0]).status_code == 302


# ---------------------------------------------------------------- the path in front of Flask


def test_head_requests_get_headers_only_and_are_kept_as_head_hits(client, runtime):
    sent = send_message(runtime)
    pixel = client.head(sent.pixel, headers=browser())
    assert (pixel.status_code, pixel.data) == (200, b"")
    assert pixel.headers["Content-Length"] == str(len(PIXEL))
    click = client.head(sent.clicks[0], headers=browser())
    assert click.status_code == 302
    assert click.headers["Location"].startswith(LINKS[0])
    assert [(h.kind, h.method) for h in hits(runtime)] == [("open", "HEAD"), ("click", "HEAD")]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_on_tracking_urls_get_405_and_record_nothing(client, runtime, method):
    sent = send_message(runtime)
    for url in (sent.pixel, sent.clicks[0]):
        response = client.open(url, method=method, headers=browser())
        assert response.status_code == 405
        assert response.headers["Allow"] == "GET, HEAD"
    assert count(runtime, TrackingHit) == 0


def test_a_non_ascii_destination_is_sent_percent_encoded(client, runtime):
    sent = send_message(runtime)
    url = "https://partner.example/préçis?q=ünïcode"
    payload = LinkSigner(runtime.settings.secret_key).click_payload(sent.token, 0, 3, url)
    response = client.get(f"/t/c/{payload}", headers=browser())
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://partner.example/pr%C3%A9%C3%A7is?q=%C3%BCn%C3%AFcode"
    )
    (hit,) = hits(runtime)
    assert hit.url == url  # stored as the email had it


@pytest.mark.parametrize("path", ["/t/o/a/b.gif", "/t/o/x.png", "/t/c/", "/t/c/a/b"])
def test_paths_that_are_no_tracking_url_get_flasks_404(client, runtime, path):
    assert client.get(path).status_code == 404
    assert count(runtime, TrackingHit) == 0


def test_a_hit_that_cannot_be_stored_still_answers_and_says_so(client, runtime, caplog):
    sent = send_message(runtime)
    runtime.engine.dispose()
    with runtime.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE tracking_hits RENAME TO tracking_hits_away")
    try:
        with caplog.at_level(logging.ERROR, logger="tracking.collect"):
            pixel = client.get(sent.pixel, headers=browser())
            click = client.get(sent.clicks[2], headers=browser())
    finally:
        with runtime.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE tracking_hits_away RENAME TO tracking_hits")
    assert (pixel.status_code, pixel.data) == (200, PIXEL)
    assert (click.status_code, click.headers["Location"]) == (302, LINKS[2])
    assert [r.getMessage() for r in caplog.records if r.name == "tracking.collect"] == [
        "a open hit could not be stored and is lost",
        "a click hit could not be stored and is lost",
    ]


# ---------------------------------------------------------------- behind a reverse proxy


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(client, runtime):
    sent = send_message(runtime)
    client.get(
        sent.pixel,
        headers=browser(**{"X-Forwarded-For": "17.58.63.12"}),
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    (hit,) = hits(runtime)
    assert hit.ip == "203.0.113.0"  # anyone can send the header: the peer counts


def test_a_trusted_proxy_passes_on_the_clients_address(settings):
    app = create_app(
        {"NURTURE_SETTINGS": settings.with_overrides(trusted_proxies=1), "TESTING": True}
    )
    runtime = app.extensions["nurture"]
    try:
        sent = send_message(runtime)
        app.test_client().get(
            sent.pixel,
            # A client forging the header gets its own address appended by the proxy:
            # only the proxy's entry (the last one) is believed.
            headers=browser(**{"X-Forwarded-For": "198.51.100.1, 17.58.63.12"}),
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        (hit,) = hits(runtime)
        assert (hit.ip, hit.network) == ("17.58.63.0", "apple")
        process(runtime)
        (event,) = events(runtime, "email.opened")
        assert event.machine_reasons == ["apple-mpp"]  # the network rule sees the client
    finally:
        runtime.close()


# ---------------------------------------------------------------- soft bounces


def test_a_human_open_restarts_the_soft_bounce_count_and_a_machine_open_does_not(client, runtime):
    human_reader = send_message(runtime, "ann@acme.example")
    proxied = send_message(runtime, "ben@acme.example")
    with transaction(runtime.sessions) as session:
        for lead_id in (human_reader.lead_id, proxied.lead_id):
            session.get(Lead, lead_id).soft_bounce_count = 2

    client.get(human_reader.pixel, headers=browser())
    client.get(  # Apple Mail Privacy Protection fetching the image
        proxied.pixel,
        headers={"User-Agent": "Mozilla/5.0"},
        environ_base={"REMOTE_ADDR": "17.58.63.12"},
    )
    process(runtime)

    assert lead(runtime, human_reader.lead_id).soft_bounce_count == 0
    assert lead(runtime, proxied.lead_id).soft_bounce_count == 2

"""Tracking through a real HTTP server and a real HTTP client, with the background hit
processor woken by each hit, as ``nurture serve`` runs it."""

import http.client
import threading
import time

import pytest
from werkzeug.serving import make_server

from nurture.tracking.processing import HitProcessor
from tests.integration.tracking_support import (
    CHROME,
    LINKS,
    activate_scoring,
    events,
    lead,
    send_message,
)
from tracking import PIXEL


@pytest.fixture
def server(app):
    runtime = app.extensions["nurture"]
    processor = HitProcessor(runtime, interval=5.0).start()  # only a wake-up makes it run soon
    app.extensions["nurture.hit_processor"] = processor
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join()
    processor.stop()


def get(port: int, path: str, agent: str = CHROME) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"User-Agent": agent})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def wait_for(check, timeout: float = 3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_click_over_http_redirects_and_updates_the_score_within_a_second(app, server):
    runtime = app.extensions["nurture"]
    activate_scoring(runtime)
    sent = send_message(runtime)

    pixel = get(server, sent.pixel)
    assert (pixel.status, pixel.body) == (200, PIXEL)  # type: ignore[attr-defined]
    started = time.monotonic()
    click = get(server, sent.clicks[0])
    assert click.status == 302
    assert click.getheader("Location").startswith(LINKS[0] + "?nv=")
    wait_for(lambda: lead(runtime, sent.lead_id).score_value >= 12)
    assert time.monotonic() - started < 1.0
    assert [e.type for e in events(runtime)] == [
        "email.opened",
        "email.clicked",
        "temperature.changed",  # cold -> warm: scoring moved the lead on
    ]

    scanner = get(server, sent.clicks[1], agent="Mimecast URL scanner")
    assert scanner.status == 302
    wait_for(lambda: len(events(runtime, "email.clicked")) == 2)
    assert events(runtime, "email.clicked")[1].machine_reasons == ["scanner:mimecast"]

    bad = get(server, sent.clicks[0][:-5])
    assert bad.status == 404

"""`nurture serve`'s access log names the page, never what was searched or where from."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from nurture.cli.serve_cmd import ACCESS_LOG_FORMAT


def test_the_access_log_leaves_out_query_strings_and_referrers() -> None:
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/leads?q=ada%40acme.example",
        "PATH_INFO": "/leads",
        "QUERY_STRING": "q=ada%40acme.example",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "http://nurture.example/settings/sending/suppressions?q=bob@x.example",
        "HTTP_USER_AGENT": "Firefox",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    atoms = Logger(Config()).atoms(response, [], environ, timedelta(milliseconds=12))

    line = ACCESS_LOG_FORMAT % atoms

    assert '"GET /leads HTTP/1.1" 200 512' in line and "Firefox" in line
    assert "acme" not in line and "x.example" not in line and "%40" not in line

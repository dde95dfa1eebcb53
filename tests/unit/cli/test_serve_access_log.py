"""`nurture serve`'s access log names the page, never what was searched or where from."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from nurture.cli.serve_cmd import ACCESS_LOG_FORMAT, access_logger


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


def _hit(path: str, status: str = "200 OK") -> tuple[object, dict[str, str]]:
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    return SimpleNamespace(status=status, sent=43, headers=[]), environ


def _logged(every: int, requests: list[tuple[str, str]], capsys) -> list[str]:  # type: ignore[no-untyped-def]
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", ACCESS_LOG_FORMAT)
    logger = access_logger(every)(config)
    capsys.readouterr()
    for path, status in requests:
        response, environ = _hit(path, status)
        logger.access(response, [], environ, timedelta(milliseconds=3))
    return [line for line in capsys.readouterr().out.splitlines() if line]


def test_one_in_n_answered_tracking_hits_is_logged_and_everything_else_always(capsys):
    pixels = [("/t/o/abc.gif", "200 OK")] * 250
    others = [("/t/c/tampered", "404 NOT FOUND"), ("/leads", "200 OK"), ("/u/token", "200 OK")]
    lines = _logged(100, [*pixels, *others], capsys)
    assert sum("/t/o/abc.gif" in line for line in lines) == 3  # hits 1, 101 and 201
    assert sum("/t/c/tampered" in line for line in lines) == 1  # a failed hit, always
    assert any('"GET /leads HTTP/1.1" 200' in line for line in lines)
    assert any('"GET /u/token HTTP/1.1" 200' in line for line in lines)


def test_every_tracking_hit_or_none_as_configured(capsys):
    pixels = [("/t/o/abc.gif", "200 OK")] * 7
    assert len(_logged(1, pixels, capsys)) == 7
    none = _logged(0, [*pixels, ("/t/o/bad.gif", "400 BAD REQUEST")], capsys)
    assert len(none) == 1 and "/t/o/bad.gif" in none[0]

"""A real HTTP receiver for webhook tests: ``http.server`` in a thread that checks every
request's signature and answers with scripted status codes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nurture.handoff.webhooks.signing import SIGNATURE_HEADER, verify


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool
    answered: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server got; ``script`` is the status codes of the next answers (then 200)."""

    url: str
    secret: str
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]


@contextmanager
def webhook_receiver(secret: str, script: list[int] | None = None) -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (a free port) until the block ends; the socket is closed after."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            valid = verify(receiver.secret, self.headers.get(SIGNATURE_HEADER), body, time.time())
            with receiver.lock:
                code = receiver.script.pop(0) if receiver.script else 200
                if not valid:
                    code = 401
                receiver.requests.append(
                    Received(self.path, dict(self.headers.items()), body, valid, code)
                )
            answer = b'{"ok": true}' if code < 300 else b"temporarily unavailable"
            self.send_response(code)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    receiver = Receiver(
        url=f"http://{host}:{port}/hooks/nurture", secret=secret, script=list(script or [])
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

"""A file the browser downloads: every CSV the web app sends goes out with the same
headers (an attachment, never cached, never sniffed into something a browser runs)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def csv_download(body: str | Iterable[str], filename: str) -> Response:
    """``body`` (the whole text, or its pieces as they are made: wrap a generator that
    reads the database in ``stream_with_context``) as the CSV attachment ``filename``."""
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )

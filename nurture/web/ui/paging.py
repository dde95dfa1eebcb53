"""The links under a keyset-paged list: "next page" carries the cursor the report gave and
the filters the page understood; "first page" appears once the reader has left it. Every
list builds them here, so the ``after`` parameter means the same on every page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for


@dataclass(frozen=True)
class PageLinks:
    next_url: str | None
    first_url: str | None


def page_links(endpoint: str, cursor: Any, paged: bool, /, **values: Any) -> PageLinks:
    """The next page's URL (None on the last page, where the report gave no ``cursor``)
    and the first page's (None when ``paged`` is false: this is it); ``values`` are the
    route's and the kept filters (a None filter is left out of the URL).

    Positional parameters only: a filter may be called anything, even "paged"."""
    next_url = url_for(endpoint, **values, after=cursor) if cursor else None
    first_url = url_for(endpoint, **values) if paged else None
    return PageLinks(next_url, first_url)

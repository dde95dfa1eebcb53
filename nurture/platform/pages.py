"""The pages a person reaches from a link in an email, without signing in: unsubscribe,
preferences and confirmation (``tracking/``), a handoff's accept and reject pages
(``nurture.web``). One Jinja set-up and one set of response headers for all of them."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

# No caching (the pages show a person's own state), no referrer leaking the signed URL to
# anything the page links to, no indexing, and a policy that allows inline styles and
# same-origin form posts only.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def page_templates(package: str, folder: str = "pages") -> Environment:
    """The autoescaping Jinja environment of the page templates shipped in ``package``."""
    return Environment(
        loader=PackageLoader(package, folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )

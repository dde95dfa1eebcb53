"""The pages a person reaches from a link in an email, without signing in: unsubscribe,
preferences and confirmation (``tracking/``), a handoff's accept and reject pages
(``nurture.web``). One Jinja set-up and one set of response headers for all of them, and
one way to show them in the person's language (the app's gettext catalogue)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from nurture.platform.i18n import DEFAULT_LOCALE, best_locale, shipped_locales, translations

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


def page_language(wanted: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The shipped language a page is shown in for a person whose locale is ``wanted``
    (``pl-PL`` reads ``pl``); ``default``'s when nobody translated theirs."""
    shipped = shipped_locales()
    return best_locale(wanted, shipped) or best_locale(default, shipped) or DEFAULT_LOCALE


def render_page(env: Environment, name: str, language: str, **context: Any) -> str:
    """Render page template ``name`` in ``language`` (a shipped one, ``page_language``):
    its strings through the gettext catalogue (``{{ _("…", name=value) }}``,
    ``{{ ngettext("…", "…", n) }}``), and ``lang`` for the ``<html>`` element."""
    catalogue = translations(language)

    def gettext(message: str, **values: Any) -> str:
        text = catalogue.gettext(message)
        return text % values if values else text

    def ngettext(singular: str, plural: str, count: int, **values: Any) -> str:
        text = catalogue.ngettext(singular, plural, count)
        return text % {"num": count, **values}

    return env.get_template(name).render(
        _=gettext,
        gettext=gettext,
        ngettext=ngettext,
        lang=language.replace("_", "-"),
        **context,
    )

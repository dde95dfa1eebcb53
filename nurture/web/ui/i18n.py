"""Translatable strings: Flask-Babel, with the language from the browser's Accept-Language
among the translations the app ships (``nurture/web/translations/<lang>``), English
otherwise. Templates use ``{{ _("…") }}``; Python code ``gettext``/``lazy_gettext``.

``make messages`` extracts the catalogue (``_l`` and ``lazy_gettext`` included) and updates
and compiles the shipped translations (docs/web.md#translations).
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, get_locale
from flask_login import current_user

from nurture.platform.i18n import DEFAULT_LOCALE, TRANSLATIONS, best_locale

__all__ = ["DEFAULT_LOCALE", "TRANSLATIONS", "available_locales", "init_i18n"]


def available_locales() -> list[str]:
    """The languages the app can speak: English and every shipped translation."""
    shipped = (
        sorted(path.name for path in TRANSLATIONS.iterdir() if (path / "LC_MESSAGES").is_dir())
        if TRANSLATIONS.is_dir()
        else []
    )
    return [DEFAULT_LOCALE, *(name for name in shipped if name != DEFAULT_LOCALE)]


def _select_locale() -> str | None:
    # The signed-in person's own choice (their account page) before their browser's.
    chosen = getattr(current_user, "locale", None)
    if chosen:
        return best_locale(chosen, available_locales()) or DEFAULT_LOCALE
    return request.accept_languages.best_match(available_locales()) or DEFAULT_LOCALE


def init_i18n(app: Flask) -> None:
    """Install gettext in the app's templates and pick each request's language."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=_select_locale)
    app.jinja_env.globals["get_locale"] = get_locale

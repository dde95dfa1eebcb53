"""Languages: where the app's translations are (``make messages`` writes them), which
languages it ships, and how a person's language is chosen.

The web pages, the public pages a lead reaches from an email and the emails the product
writes itself (the weekly digest) read the same gettext catalogue; email templates have
per-language variants of their own files (docs/templates.md#languages).

A lead's or user's ``locale`` is a BCP 47 tag (``pl``, ``pt-BR``). What they are shown is
the best shipped language for it: ``pl-PL`` reads Polish, ``pt-BR`` reads ``pt_BR`` when it
is shipped and ``pt`` otherwise, and a language nobody translated reads the instance's
default.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "web" / "translations"
DEFAULT_LOCALE = "en"

# The language people in a country most likely read, for a lead whose locale nobody gave
# (an import without a language column, a form). Countries missing here, and countries
# with several main languages (CH, BE, CA), get the instance's default.
COUNTRY_LANGUAGES: dict[str, str] = {
    "PL": "pl",
    "DE": "de",
    "AT": "de",
    "LI": "de",
    "FR": "fr",
    "MC": "fr",
    "ES": "es",
    "MX": "es",
    "AR": "es",
    "CO": "es",
    "CL": "es",
    "PE": "es",
    "IT": "it",
    "SM": "it",
    "PT": "pt",
    "BR": "pt",
    "NL": "nl",
    "CZ": "cs",
    "SK": "sk",
    "HU": "hu",
    "RO": "ro",
    "BG": "bg",
    "HR": "hr",
    "SI": "sl",
    "LT": "lt",
    "LV": "lv",
    "EE": "et",
    "FI": "fi",
    "SE": "sv",
    "DK": "da",
    "NO": "nb",
    "GR": "el",
    "TR": "tr",
    "UA": "uk",
    "JP": "ja",
    "CN": "zh",
    "KR": "ko",
    "GB": "en",
    "IE": "en",
    "US": "en",
    "AU": "en",
    "NZ": "en",
}


class LocaleError(ValueError):
    """A locale that is not a language Babel knows."""


def normalise_locale(text: str) -> str:
    """``text`` as a canonical BCP 47 tag Babel knows: ``pl_pl`` → ``pl-PL``, ``EN`` →
    ``en``. Raises LocaleError (with what to write instead) for anything else."""
    cleaned = text.strip().replace("_", "-")
    try:
        locale = Locale.parse(cleaned, sep="-")
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise LocaleError(
            f"unknown locale {text!r}: use a language code such as en, pl or pt-BR"
        ) from exc
    parts = [locale.language]
    if locale.script:
        parts.append(locale.script)
    if locale.territory:
        parts.append(locale.territory)
    return "-".join(parts)


def country_language(country: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The language a lead in ``country`` (ISO 3166 alpha-2) most likely reads."""
    if not country:
        return default
    return COUNTRY_LANGUAGES.get(country.strip().upper(), default)


def shipped_locales() -> list[str]:
    """The languages the app speaks: English and every translation under ``TRANSLATIONS``
    (a folder with a compiled catalogue; adding one needs no code)."""
    shipped = (
        sorted(
            path.name
            for path in TRANSLATIONS.iterdir()
            if (path / "LC_MESSAGES" / "messages.mo").is_file()
        )
        if TRANSLATIONS.is_dir()
        else []
    )
    return [DEFAULT_LOCALE, *(name for name in shipped if name != DEFAULT_LOCALE)]


def best_locale(wanted: str | None, available: Iterable[str]) -> str | None:
    """The one of ``available`` (tags like ``pl`` or ``pt_BR``) that best serves a person
    whose locale is ``wanted``: the exact tag, else its language alone; None when none fits."""
    if not wanted:
        return None
    by_key = {name.replace("-", "_").lower(): name for name in available}
    tag = wanted.replace("-", "_").lower()
    if tag in by_key:
        return by_key[tag]
    language = tag.split("_", 1)[0]
    return by_key.get(language)


@functools.lru_cache(maxsize=32)
def translations(locale: str) -> NullTranslations:
    """The gettext catalogue of ``locale`` (a shipped language), loaded once per process;
    English (the source strings) for anything else."""
    chosen = best_locale(locale, shipped_locales())
    if chosen is None or chosen == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [chosen])


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue (``pybabel`` extracts ``N_``); it is translated
    where it is shown, in the reader's language."""
    return message

"""Every word a page shows goes through gettext.

The catalogue is extracted from the code as ``make messages`` does (``babel.cfg``), every message
is "translated" into a pseudo-language that wraps it in ⟦…⟧, and each page of the app is
read in that language: any text or label not inside ⟦…⟧ was written in the page, out of
the translators' reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from babel import Locale
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, url_for

from nurture.auth import roles
from nurture.platform.config import Settings
from nurture.web import create_app
from nurture.web.ui import i18n
from nurture.web.ui.labels import VOCABULARIES
from nurture.web.ui.render import ROLE_LABELS
from tests.integration.web.ui_support import signed_in_client

ROOT = Path(__file__).resolve().parents[3]
# A locale Babel knows and the app does not ship, written in another alphabet: dates and
# numbers that Babel formats in it cannot pass for English words left in a page.
PSEUDO = "ru"
# Read by people as a label: these attributes need translating as much as text does.
LABELS = ("aria-label", "title", "placeholder", "alt")
# The brand's stylesheet and logo: the instance's own files, not words.
BRAND_ASSETS = {"ui_settings.brand_css", "ui_settings.logo"}
# Nothing to translate: no Latin letter outside the catalogue's ⟦…⟧ (the messages are
# written in English), once the instance's own data is taken out.
NOT_WORDS = re.compile(r"^[^A-Za-z]*$")


SHIPPED_TEMPLATE = ROOT / "nurture" / "web" / "translations" / "messages.pot"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue template as ``make messages`` extracts it from the code now."""
    template = tmp_path_factory.mktemp("extracted") / "messages.pot"
    CommandLineInterface().run(
        [
            *("pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg")),
            *("-k", "_l", "-k", "lazy_gettext", "-o", str(template), str(ROOT)),
        ]
    )
    return template


@pytest.fixture(scope="module")
def pseudo_translations(tmp_path_factory: pytest.TempPathFactory, extracted: Path) -> Path:
    folder = tmp_path_factory.mktemp("translations")
    with extracted.open("rb") as handle:
        catalog = read_po(handle, locale=PSEUDO)
    assert len(catalog) > 50, "the extraction found almost nothing"
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id[0], message.id[-1]
            forms = [singular] + [plural] * (catalog.num_plurals - 1)
            message.string = tuple(f"⟦{form}⟧" for form in forms)
        else:
            message.string = f"⟦{message.id}⟧"
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return folder


@pytest.fixture
def pseudo_app(
    settings: Settings, pseudo_translations: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setattr(i18n, "TRANSLATIONS", pseudo_translations)
    app = create_app(
        {"NURTURE_SETTINGS": settings, "BABEL_TRANSLATION_DIRECTORIES": str(pseudo_translations)}
    )
    yield app
    app.extensions["nurture"].close()


class _Words(HTMLParser):
    """Collects the page's visible text and labels, outside <script>, <style>, <pre>."""

    # Code, and a control's value (a textarea's text), are data, not labels.
    SKIP = frozenset({"script", "style", "pre", "code", "title", "textarea"})

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping.append(tag)
        for name, value in attrs:
            if name in LABELS and value:
                self.words.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.words.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.words.append(data)


# A token, not a word: letters joined with digits or punctuation, no space (``user.created``,
# ``#0b4f6c``, ``role=admin``, ``(user:1)``): sample values and stored keys.
TOKEN = re.compile(r"\S*[\d.#@:/=_{}()]\S*")
SEPARATOR = "\x00"


def untranslated(html: str, data: set[str]) -> list[str]:
    """The pieces of ``html`` shown in words that did not come from the catalogue."""
    parser = _Words()
    parser.feed(html)
    # One translated sentence may hold markup (a <code> inside): its ⟦ and ⟧ fall in
    # different pieces, so the brackets are matched across the whole page.
    joined = SEPARATOR.join(parser.words)
    kept = re.sub(r"⟦.*?⟧", lambda m: re.sub(r"[^\x00]", "", m.group()), joined, flags=re.DOTALL)
    outside = []
    for text, rest in zip(parser.words, kept.split(SEPARATOR), strict=True):
        # Longest first: "recycle-whats-new" is taken out whole before "recycle" is.
        for value in sorted(data, key=len, reverse=True):
            rest = rest.replace(value, "")
        rest = TOKEN.sub("", rest)
        # A lone letter is a symbol (a fit grade), not a word to translate.
        if not NOT_WORDS.match(rest) and len(rest.strip()) > 1:
            outside.append(text.strip())
    return outside


def _file_names(settings: Settings) -> set[str]:
    """Names the marketer's files give: campaign keys, template folders, and the sales
    team's reject reasons (written in the team's own language)."""
    names = {path.name for path in settings.templates_path.iterdir() if path.is_dir()}
    team = yaml.safe_load(settings.sales_team_file.read_text(encoding="utf-8"))
    names.update(reason["label"] for reason in team.get("reject_reasons", []))
    for path in settings.campaigns_path.glob("*.y*ml"):
        names.add(path.stem)
        key = re.search(r"^key:\s*(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
        if key:
            names.add(key.group(1).strip("'\""))
    return names


def _pages_without_arguments(app: Flask) -> list[str]:
    with app.test_request_context():
        return sorted(
            url_for(rule.endpoint)
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("ui_")
            and rule.endpoint not in BRAND_ASSETS
            and "GET" in (rule.methods or ())
            and not rule.arguments
        )


def test_every_page_speaks_only_through_the_catalogue(
    pseudo_app: Flask, settings: Settings
) -> None:
    admin = signed_in_client(pseudo_app, "admin")
    anonymous = pseudo_app.test_client()
    # Data shown as it is stored: the instance's name, the signed-in person's, and the names
    # of the campaign and template files.
    # The actor "test" is the test helpers' own name in the audit log.
    data = {settings.company_name, "Admin", "admin@example.com", "Nurture", "test"}
    data.update(_file_names(settings))
    # The account page's language choices name each language in itself (Babel's names).
    data.update(Locale.parse(code).get_display_name(code) for code in i18n.available_locales())
    pages = _pages_without_arguments(pseudo_app)
    assert "/" in pages and "/login" in pages

    failures = {}
    for path in pages:
        client = anonymous if path in ("/login", "/password/forgot") else admin
        response = client.get(path, headers={"Accept-Language": PSEUDO})
        # Read and closed: a streamed download keeps its request's context until closed.
        html = response.get_data(as_text=True)
        response.close()
        assert response.status_code == 200, path
        if response.mimetype != "text/html":
            continue  # a download (CSV, JSON): data, with column names for programs
        words = untranslated(html, data)
        if words:
            failures[path] = words
    assert not failures, "text written outside gettext:\n" + "\n".join(
        f"{path}: {words}" for path, words in failures.items()
    )


def test_the_check_finds_a_word_written_in_a_page() -> None:
    html = (
        '<p>⟦Saved⟧</p><button aria-label="Close">⟦x⟧</button><p>Hard-coded</p>'
        "<p>⟦Use <code>Bearer</code> keys⟧</p><td>role=admin</td><td>pending</td>"
    )

    assert untranslated(html, set()) == ["Close", "Hard-coded", "pending"]


def test_the_shipped_catalogue_template_holds_every_message_of_the_code(extracted: Path) -> None:
    # Translators work from the committed messages.pot: a string added to a page without
    # `make messages` would never reach them.
    with extracted.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    with SHIPPED_TEMPLATE.open("rb") as handle:
        shipped = {message.id for message in read_po(handle) if message.id}
    missing = sorted(str(message) for message in wanted - shipped)
    assert not missing, f"run `make messages`; not in {SHIPPED_TEMPLATE.name}: {missing[:10]}"


def test_every_role_has_a_name_for_the_pages() -> None:
    assert set(ROLE_LABELS) == set(roles.ROLES)


def test_every_stage_temperature_consent_and_basis_has_a_name_for_the_pages() -> None:
    for table, keys in VOCABULARIES:
        assert set(table) == set(keys)

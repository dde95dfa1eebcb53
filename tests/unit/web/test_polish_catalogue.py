"""The shipped Polish catalogue: its plural rule is Polish, the compiled ``.mo`` a fresh
clone runs with says what the ``.po`` says, and every message a lead or a rep reads outside
the app (public pages, handoff pages, the auto-reply's "when", the sales notification and
the words the handoff's emails are given, the digest) is translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from nurture.platform.i18n import TRANSLATIONS, translations

PO = TRANSLATIONS / "pl" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# Read by people outside the app: each of their messages must be Polish.
OUTSIDE = ("tracking/pages/", "nurture/web/pages/", "nurture/web/handoffs.py",
           "nurture/handoff/", "templates/sales-handoff/",
           "nurture/analytics/templates/")  # fmt: skip


@pytest.fixture(scope="module")
def catalogue():
    with PO.open("rb") as handle:
        return read_po(handle, locale="pl")


def _key(message):
    return message.context, _text(message.id)


def _text(value):
    # A plural message is a sequence of forms (a tuple read from .po, a list from .mo).
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_polish_has_three_plural_forms_chosen_by_the_polish_rule():
    problems = translations("pl")
    forms = [problems.ngettext("%(num)d problem", "%(num)d problems", n) % {"num": n}
             for n in (1, 2, 5, 22, 25)]  # fmt: skip
    assert forms == ["1 problem", "2 problemy", "5 problemów", "22 problemy", "25 problemów"]


def test_the_compiled_catalogue_says_what_the_source_says(catalogue):
    with MO.open("rb") as handle:
        compiled = read_mo(handle)
    source = {_key(m): _text(m.string) for m in catalogue if m.id and m.string}
    shipped = {_key(m): _text(m.string) for m in compiled if m.id and m.string}
    assert shipped == source, "run `make messages` (the .mo is out of date)"


def test_every_message_people_outside_the_app_read_is_polish(catalogue):
    missing = [
        m.id
        for m in catalogue
        if m.id
        and any(location.startswith(OUTSIDE) for location, _ in m.locations)
        and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert missing == []
    assert Path(PO).read_text(encoding="utf-8").count("#, fuzzy") == 0

"""Names of protected characteristics and of their proxies (``protected_names.yaml``
beside this module: English, Polish and German), and which of them a name stands for.

A name is a field (``attributes.date_of_birth``), an ICP criterion's id or label, or an
event property a scoring rule checks; it matches a category when one of the category's
phrases stands in its words (case, accents, punctuation, underscores and camelCase
ignored; a phrase word may begin or end with ``*`` for German compounds). The phrase
matching is the buying committee's (``nurture.handoff.committee``), so a title and a field
name are read alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from nurture.handoff.committee import Phrase, fold, title_words

NAMES_FILE = Path(__file__).resolve().parent / "protected_names.yaml"
KINDS = ("protected", "proxy")
_PHRASE_WORD = re.compile(r"\*?[a-z0-9]+\*?")
# A lower-case letter or digit followed by a capital: where camelCase splits words.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class Category:
    """A protected characteristic (or a proxy for one) and the phrases that name it."""

    id: str
    kind: str
    label: str
    phrases: tuple[Phrase, ...]

    def names(self, text: str) -> bool:
        """True when ``text`` (a field name, a label…) names this category."""
        words = name_words(text)
        return any(phrase.found_in(words) for phrase in self.phrases)


def name_words(text: str) -> tuple[str, ...]:
    """The words of a field name or label, folded: ``attributes.dateOfBirth`` →
    ``("attributes", "date", "of", "birth")``."""
    return title_words(_CAMEL.sub(" ", text).replace("_", " "))


def parse_categories(data: Any) -> tuple[Category, ...]:
    """The categories of a names file's data (ValueError when it is not one: the file
    ships with Nurture, so a mistake in it must fail its test, not match nothing)."""
    items = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ValueError("needs a list of categories")
    return tuple(_category(item) for item in items)


def _category(item: Any) -> Category:
    if not isinstance(item, dict) or not item.get("id") or not item.get("label"):
        raise ValueError(f"{item!r}: each category needs an id, a kind, a label and names")
    if item.get("kind") not in KINDS:
        raise ValueError(f"{item['id']}: kind {item.get('kind')!r} is not one of {KINDS}")
    names = item.get("names")
    if not isinstance(names, dict) or not names:
        raise ValueError(f"{item['id']}: names must map languages (en, pl, de…) to lists")
    phrases = []
    for language, written in names.items():
        for phrase in written if isinstance(written, list) else [written]:
            words = tuple(_PHRASE_WORD.findall(fold(str(phrase))))
            if not isinstance(phrase, str) or not words:
                raise ValueError(f"{item['id']}: names.{language}: {phrase!r} is not a name")
            phrases.append(Phrase(words))
    return Category(str(item["id"]), str(item["kind"]), str(item["label"]), tuple(phrases))


@lru_cache(maxsize=1)
def bundled_categories() -> tuple[Category, ...]:
    """The categories of the names file shipped with Nurture (read once per process)."""
    return parse_categories(yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8")))


def categories_named(
    text: str, categories: Sequence[Category] | None = None
) -> tuple[Category, ...]:
    """The categories ``text`` names (protected ones first, in file order)."""
    pool = bundled_categories() if categories is None else categories
    found = [c for c in pool if c.names(text)]
    return tuple(sorted(found, key=lambda c: KINDS.index(c.kind)))

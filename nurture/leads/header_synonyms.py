"""Which lead field a column header names, in any of the languages of the synonyms file
(``nurture/leads/data/header_synonyms.yaml``: English, Polish, German, French, Spanish,
Italian, Portuguese, Dutch). Pure once the file is read (it is read once per process).

Headers are compared after folding case, accents and punctuation: ``"Imię"``, ``"IMIE"``
and ``"imie "`` are one name, and so are ``"E-Mail-Adresse"`` and ``"e mail adresse"``.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from nurture.leads.fields import IMPORTABLE_FIELDS

_DATA_FILE = "header_synonyms.yaml"
_ATTRIBUTE_PREFIX = "attributes."
# How close a header must be to a known name for "did you mean" (difflib's ratio).
DID_YOU_MEAN_CUTOFF = 0.75

_SPECIAL_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(header: str) -> str:
    """Case, accents and punctuation away: ``"Adres E-mail "`` → ``"adres e mail"``,
    ``"Nazwa Firmy (pełna)"`` → ``"nazwa firmy pelna"``."""
    text = unicodedata.normalize("NFKD", header.casefold().translate(_SPECIAL_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_SPECIAL_LETTERS)
    return _NON_WORD.sub(" ", text).strip()


def compact(text: str) -> str:
    """A normalised name without spaces (``"e mail"`` → ``"email"``)."""
    return text.replace(" ", "")


@dataclass(frozen=True)
class Synonyms:
    """The synonyms file, read: field -> names, and the two lookups built from it."""

    # Field (or ``attributes.NAME``) -> the names in the file, in its order.
    names: dict[str, tuple[str, ...]]
    # Normalised name -> target, with and without spaces.
    by_name: dict[str, str]
    by_compact: dict[str, str]


def _targets(data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    fields = data.get("fields") or {}
    attributes = data.get("attributes") or {}
    unknown = set(fields) - set(IMPORTABLE_FIELDS)
    if unknown:
        # A typo in the shipped file must fail the tests, not silently map nothing.
        raise ValueError(f"{_DATA_FILE}: not lead fields: {sorted(unknown)}")
    targets = {field: tuple(str(n) for n in names or ()) for field, names in fields.items()}
    for key, names in attributes.items():
        targets[f"{_ATTRIBUTE_PREFIX}{key}"] = tuple(str(n) for n in names or ())
    return targets


@functools.cache
def synonyms() -> Synonyms:
    """The synonyms file, read once."""
    text = resources.files("nurture.leads").joinpath("data", _DATA_FILE).read_text("utf-8")
    names = _targets(yaml.safe_load(text) or {})
    by_name: dict[str, str] = {}
    by_compact: dict[str, str] = {}
    for field in IMPORTABLE_FIELDS:
        key = normalise(field.replace("_", " "))
        by_name.setdefault(key, field)
        by_compact.setdefault(compact(key), field)
    for target, spellings in names.items():
        for spelling in spellings:
            key = normalise(spelling)
            by_name.setdefault(key, target)
            by_compact.setdefault(compact(key), target)
    return Synonyms(names=names, by_name=by_name, by_compact=by_compact)


def target_for_header(header: str) -> str | None:
    """The field (or ``attributes.NAME``) a header names exactly, after folding case,
    accents and punctuation; None when it names none."""
    key = normalise(header)
    if not key:
        return None
    known = synonyms()
    return known.by_name.get(key) or known.by_compact.get(compact(key))


def did_you_mean(header: str) -> tuple[str, str] | None:
    """For a header no synonym names: the closest known name and its target, when one is
    close enough to be a likely typo (``"Emial"`` → ``("email", "email")``), else None."""
    key = compact(normalise(header))
    if not key:
        return None
    known = synonyms().by_compact
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=DID_YOU_MEAN_CUTOFF)
    return (close[0], known[close[0]]) if close else None

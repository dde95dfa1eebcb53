"""Suggested targets for the columns of a lead file, whatever language its headers are in.
Pure: headers and a few sample rows in, one suggestion per column out.

Three clues, strongest first:

1. the header names a lead field in one of the languages of ``SYNONYMS`` (English, Polish,
   German, French, Spanish, Italian, Portuguese, Dutch), compared after normalising case,
   accents and punctuation ("Adres e-mail" → "adres e mail"), or contains such a name as
   whole words ("E-mail służbowy");
2. the header is a near miss of one (``difflib``: typos, "Emial", "Telefonnr");
3. the values look like one kind of data: email addresses, phone numbers, country codes,
   web addresses, time zones.

Each field is suggested for one column at most: the strongest claim wins it and the other
column falls back to its next clue, or to nothing (the person decides). The CLI's automatic
header recognition (``nurture.leads.csv_columns``) takes exact names from the same synonyms;
this module is what the web app proposes before a person confirms the mapping.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import available_timezones

from nurture.leads.csv_columns import IGNORE_TARGET, LINE_COLUMN, REASON_COLUMN
from nurture.leads.fields import IMPORTABLE_FIELDS
from nurture.leads.header_synonyms import compact, normalise, synonyms
from nurture.leads.validation import COUNTRY_CODES

# How sure a suggestion is; also the order in which conflicting claims are settled.
EXACT = 100
CONTAINS = 80
VALUES = 75
SIMILAR = 60
FUZZY_CUTOFF = 0.78
# Share of a column's non-empty sample values that must look like a kind of data.
VALUE_SHARE = 0.8

# Field -> header names (the synonyms file, nurture/leads/data/header_synonyms.yaml). The web
# app's selects offer lead fields and an attribute named after the header, so the file's
# attribute targets (a "City" column) are the CLI's alone.
SYNONYMS: dict[str, tuple[str, ...]] = {
    target: names
    for target, names in synonyms().names.items()
    if not target.startswith("attributes.")
}
# Words too common to count when a longer header merely contains them ("Last login",
# "Page title"): they match only as the whole header.
_WHOLE_HEADER_ONLY = frozenset({"first", "last", "title", "source", "stage", "phase", "staff"})


@dataclass(frozen=True)
class Suggestion:
    """What a column should become and why: ``target`` is a lead field or ``-`` (nothing
    fits); ``reason`` is ``header`` (the header names the field), ``contains`` (the header
    contains its name), ``similar`` (the header is close to ``matched``), ``values`` (the
    sample values look like it: ``matched`` names the kind) or ``none``."""

    target: str
    reason: str
    matched: str = ""
    confidence: int = 0


NOTHING = Suggestion(IGNORE_TARGET, "none")


def _index() -> tuple[dict[str, str], dict[str, str]]:
    spaced: dict[str, str] = {}
    squeezed: dict[str, str] = {}
    for field, names in SYNONYMS.items():
        for name in (field.replace("_", " "), *names):
            key = normalise(name)
            spaced.setdefault(key, field)
            squeezed.setdefault(compact(key), field)
    return spaced, squeezed


_BY_NAME, _BY_COMPACT = _index()
# Longest first, so "company domain" is found in a header before "company".
_PHRASES = sorted(
    (k for k in _BY_NAME if len(compact(k)) >= 4 and k not in _WHOLE_HEADER_ONLY),
    key=len,
    reverse=True,
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ().\-/]{5,}$")
_URL_RE = re.compile(r"^(https?://)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(/\S*)?$", re.I)


def _header_clue(header: str) -> Suggestion | None:
    key = normalise(header)
    if not key:
        return None
    field = _BY_NAME.get(key) or _BY_COMPACT.get(compact(key))
    if field is not None:
        return Suggestion(field, "header", header, EXACT)
    padded = f" {key} "
    for phrase in _PHRASES:
        if f" {phrase} " in padded:
            return Suggestion(_BY_NAME[phrase], "contains", phrase, CONTAINS)
    close = difflib.get_close_matches(compact(key), list(_BY_COMPACT), n=1, cutoff=FUZZY_CUTOFF)
    if close:
        ratio = difflib.SequenceMatcher(None, compact(key), close[0]).ratio()
        return Suggestion(_BY_COMPACT[close[0]], "similar", close[0], SIMILAR + int(ratio * 10))
    return None


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(name.casefold() for name in available_timezones())


def _is_country(value: str) -> bool:
    return value.upper() in COUNTRY_CODES or value.upper() == "UK"


def _values_clue(values: Sequence[str]) -> Suggestion | None:
    present = [v.strip() for v in values if v and v.strip()]
    if not present:
        return None
    kinds = (
        ("email", "emails", lambda v: bool(_EMAIL_RE.match(v))),
        ("country", "country codes", _is_country),
        ("timezone", "time zones", lambda v: "/" in v and v.casefold() in _zone_names()),
        ("company_domain", "web addresses", lambda v: "@" not in v and bool(_URL_RE.match(v))),
        ("phone", "phone numbers", lambda v: bool(_PHONE_RE.match(v))),
    )
    for field, kind, looks_like in kinds:
        if field == "country" and len({v.upper() for v in present}) < 2:
            continue  # one value ("NO") says too little: a yes/no column, not Norway
        if sum(1 for v in present if looks_like(v)) >= VALUE_SHARE * len(present):
            # Email addresses in the values are the surest clue there is.
            return Suggestion(field, "values", kind, 95 if field == "email" else VALUES)
    return None


def suggest_columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[Suggestion]:
    """One suggestion per column of ``header``, using the sample ``rows`` for value clues.
    A field is suggested for one column at most."""
    claims: list[tuple[int, int, Suggestion]] = []
    for index, name in enumerate(header):
        if name in (LINE_COLUMN, REASON_COLUMN):
            continue  # a corrected rejects file: its bookkeeping columns are not data
        values = [row[index] for row in rows if index < len(row)]
        clues = [c for c in (_header_clue(name), _values_clue(values)) if c is not None]
        for clue in clues:
            claims.append((clue.confidence, index, clue))
        # The values confirming the header make the strongest claim of all.
        if len(clues) == 2 and clues[0].target == clues[1].target:
            claims.append((EXACT + 1, index, clues[0]))
    chosen: dict[int, Suggestion] = {}
    taken: set[str] = set()
    for _, index, clue in sorted(claims, key=lambda c: (-c[0], c[1])):
        if index in chosen or clue.target in taken:
            continue
        chosen[index] = clue
        taken.add(clue.target)
    return [chosen.get(index, NOTHING) for index in range(len(header))]


def attribute_key(header: str) -> str:
    """The custom attribute a column becomes when it is kept as one: its normalised header
    with underscores (``"Kod rabatowy"`` → ``kod_rabatowy``), at most 64 characters."""
    key = normalise(header).replace(" ", "_")[:64].strip("_")
    return key or "column"


def is_field(target: str) -> bool:
    """True for a lead field a column can map to (not ``-`` or an attribute)."""
    return target in IMPORTABLE_FIELDS

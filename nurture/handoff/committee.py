"""The buying committee: the role a person likely plays in a B2B purchase, from their job
title.

B2B deals are decided by several people; sales wants to know who at the account is already
engaged and who is missing. The roles follow the usual committee model:

- ``decision maker``: owns the budget and signs (board, C-level, VP, head of, director).
- ``champion``: runs the evaluation day to day and sells it inside (manager, team lead).
- ``technical evaluator``: checks that it works (engineer, architect, developer, IT, data).
- ``finance``: checks the price (finance, procurement, purchasing, controller).
- ``user``: will use it every day (analyst, specialist, coordinator, associate).

The titles are data, not code: ``committee_titles.yaml`` beside this module lists them in
English, Polish and German, so "Dyrektor finansowy" and "Geschäftsführer" are decision
makers as "CFO" is. :func:`parse_title_rules` reads such a file (pure, every problem at its
line); :func:`role_for_title` applies the rules, the first matching rule winning; nothing
matching is ``unknown`` rather than a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from nurture.files.problems import Problem, ProblemsError
from nurture.files.yaml_lines import LineLoader, line_of, own_line

ROLES = ("decision maker", "champion", "technical evaluator", "finance", "user")
TITLES_FILE = Path(__file__).resolve().parent / "committee_titles.yaml"

# Letters NFKD does not take apart into a base letter and an accent.
_UNFOLDED = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i"})
_WORD = re.compile(r"[a-z0-9]+")
_PHRASE_WORD = re.compile(r"\*?[a-z0-9]+\*?")


def fold(text: str) -> str:
    """Lower case without accents: ``Członek Zarządu`` → ``czlonek zarzadu``,
    ``Geschäftsführer`` → ``geschaftsfuhrer``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNFOLDED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def title_words(title: str) -> tuple[str, ...]:
    """The words of a job title, folded (punctuation and ``ds.``-style dots dropped)."""
    return tuple(_WORD.findall(fold(title)))


@dataclass(frozen=True)
class Phrase:
    """Consecutive words a title must contain; a word may begin or end with ``*``."""

    words: tuple[str, ...]

    def found_in(self, words: Sequence[str]) -> bool:
        """True when the phrase's words stand one after another somewhere in ``words``."""
        size = len(self.words)
        return any(
            all(
                _word_matches(want, have)
                for want, have in zip(self.words, words[i : i + size], strict=True)
            )
            for i in range(len(words) - size + 1)
        )


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
        return pattern[1:-1] in word
    if pattern.startswith("*"):
        return word.endswith(pattern[1:])
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return word == pattern


@dataclass(frozen=True)
class TitleRule:
    """A role and the phrases (of every language) that give it."""

    role: str
    phrases: tuple[Phrase, ...]
    line: int = 0


def parse_title_rules(text: str, path: str) -> tuple[TitleRule, ...]:
    """The rules of a titles file; ProblemsError (each problem ``path:line: message``) when
    the file cannot be used."""
    try:
        data = yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise ProblemsError([Problem(path, line, f"not valid YAML: {exc}")]) from None
    problems: list[Problem] = []
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ProblemsError([Problem(path, own_line(data, 1), "needs a list of rules")])
    rules: list[TitleRule] = []
    for index, item in enumerate(items):
        line = line_of(items, index, 1)
        rule = _rule(item, line, path, problems)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise ProblemsError(problems)
    return tuple(rules)


def _rule(item: Any, line: int, path: str, problems: list[Problem]) -> TitleRule | None:
    if not isinstance(item, dict):
        problems.append(Problem(path, line, "each rule needs a role and titles"))
        return None
    role = item.get("role")
    if role not in ROLES:
        problems.append(
            Problem(
                path,
                line_of(item, "role", line),
                f"role {role!r} is not one of: {', '.join(ROLES)}",
            )
        )
    titles = item.get("titles")
    if not isinstance(titles, dict) or not titles:
        problems.append(
            Problem(path, line, "titles must map languages (en, pl, de, …) to lists of titles")
        )
        return None
    phrases: list[Phrase] = []
    for language, written in titles.items():
        where = line_of(titles, language, line)
        if not isinstance(written, list) or not written:
            problems.append(Problem(path, where, f"titles.{language} must be a list of titles"))
            continue
        for position, phrase in enumerate(written):
            at = line_of(written, position, where)
            words = tuple(_PHRASE_WORD.findall(fold(str(phrase))))
            if not isinstance(phrase, str) or not words:
                problems.append(Problem(path, at, f"{phrase!r} is not a title"))
                continue
            phrases.append(Phrase(words))
    return TitleRule(str(role), tuple(phrases), line) if role in ROLES else None


@lru_cache(maxsize=1)
def bundled_rules() -> tuple[TitleRule, ...]:
    """The rules of the titles file shipped with Nurture (read once per process)."""
    return parse_title_rules(TITLES_FILE.read_text(encoding="utf-8"), str(TITLES_FILE))


def role_for_title(title: str | None, rules: Sequence[TitleRule] | None = None) -> str:
    """The likely committee role of someone with this job title (``unknown`` if unclear),
    by ``rules`` (default: the bundled titles file)."""
    if not title or not title.strip():
        return "unknown"
    words = title_words(title)
    for rule in bundled_rules() if rules is None else rules:
        if any(phrase.found_in(words) for phrase in rule.phrases):
            return rule.role
    return "unknown"


def missing_roles(roles: list[str]) -> list[str]:
    """Committee roles nobody engaged covers yet (the people sales should find)."""
    covered = set(roles)
    return [role for role in ROLES[:4] if role not in covered]

"""Warnings about a history and the files a model is made of (pure): facts that leak the
outcome, and criteria or facts about protected characteristics (docs/backtest.md).

**Leakage** is a fact recorded after the outcome: a "closed" tag, a "customer since"
date, a stage of "won", an invoice event. A model that reads it looks brilliant on
history and is useless on new leads, which do not have it yet. Two kinds of evidence:

- a field (lead field, attribute, aggregate-only fact) that is filled in, or takes a
  value, (almost) only for converters, or that nearly separates converters from the rest
  (by a value, by presence, or by a number threshold), or whose value is a date on or after
  the conversion;
- an event type whose first event came on or after the conversion for most converters that
  have one.

A fact that merely predicts well is not flagged: "nearly separates" means it tells the two
classes apart for at least ``SEPARATION`` of both (facts known before a sale rarely do), or
appears for a good share of converters and practically never for anyone else. Timing is the
stronger evidence where the history has it: an event that comes before the conversion is
honest however well it predicts.

**Protected attributes**: fields, ICP criteria (field, id, label, band labels) and scoring
rule conditions that name a protected characteristic, or a proxy worth a look (names in
``protected_names.yaml``, read by ``nurture.backtest.protected``).

Every warning is a :class:`Finding`: its kind, the fact, a sentence a marketer understands
with the figures, the figures themselves, and which of the given files use the fact.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, repeat
from typing import Any

from nurture.backtest.findings import Finding, place_in, used_places
from nurture.backtest.history import History, HistoryLead
from nurture.backtest.protected import Category, categories_named
from nurture.qualification import ICP
from nurture.scoring import ScoringModel

# A fact tells converters from the rest "nearly perfectly" when the share of converters
# with it, less the share of the rest with it, is at least this (or at most its negative).
SEPARATION = 0.9
# A fact present for at least this share of converters and at most RARE_ELSEWHERE of the
# rest is there (almost) only because they converted.
CONVERTER_SHARE = 0.2
RARE_ELSEWHERE = 0.005
# An event type is late when its first event came on or after the conversion for at
# least this share of the converters that have one.
LATE_SHARE = 0.8
# Fewer converters (or non-converters) than this say nothing either way.
MIN_SUPPORT = 5
# Values of one field counted one by one (the most common); a field with more distinct
# values (names, ids) is judged by its presence and, when numeric, its thresholds.
_VALUES_PER_FIELD = 200


# ---------------------------------------------------------------- leakage


def share(value: float) -> str:
    """A share the way the warnings write it: ``98 %``, ``0.1 %``, ``< 0.1 %``, ``0 %``."""
    percent = value * 100
    if percent == 0 or percent >= 1:
        return f"{percent:.0f} %"
    return f"{percent:.1f} %" if percent >= 0.1 else "< 0.1 %"


@dataclass
class _Counts:
    """How many converters (``yes``) and others (``no``) have something."""

    yes: int = 0
    no: int = 0


def leakage_warnings(
    history: History | Iterable[HistoryLead],
    *,
    used: Collection[str] | Mapping[str, Sequence[str]] = (),
) -> list[Finding]:
    """Facts of ``history`` that look recorded after the outcome, strongest first.
    ``used``: the facts the files or a fitted model read, said in each warning about them:
    names mapped to where they are read (``facts_used``), or plain names (a model's
    features: "Used by the model")."""
    leads = history.leads if isinstance(history, History) else tuple(history)
    converters = sum(1 for lead in leads if lead.outcome.converted)
    others = len(leads) - converters
    if converters < MIN_SUPPORT or others < MIN_SUPPORT:
        return []
    places = used_places(used)
    findings = [*_field_findings(leads, converters, others), *_event_findings(leads, others)]
    findings.sort(key=lambda f: (-float(f.figures.get("strength", 0)), f.fact))
    return [_with_use(finding, places) for finding in findings]


def _with_use(finding: Finding, places: Mapping[str, Sequence[str]]) -> Finding:
    where = tuple(places.get(finding.fact, ()))
    if where:
        advice = f" Used by {'; '.join(where)}: remove it there before trusting the figures."
    else:
        advice = (
            " Not used by the files checked; keep it out of the ICP, the scoring file and "
            "any fitted model."
        )
    return Finding(finding.kind, finding.fact, finding.message + advice, finding.figures, where)


def _field_findings(
    leads: Sequence[HistoryLead], converters: int, others: int
) -> Iterable[Finding]:
    # Each field's values by class first (one call per value, to the right list's append),
    # then counted per field in bulk: this is what keeps 100,000 leads under a second.
    columns: dict[str, tuple[list[Any], list[Any]]] = {}
    appends: tuple[dict[str, Callable[[Any], None]], ...] = ({}, {})
    converted_leads: list[HistoryLead] = []
    for lead in leads:
        if lead.outcome.converted:
            converted_leads.append(lead)
        append = appends[lead.outcome.converted]
        for name, value in lead.fields.items():
            try:
                append[name](value)
            except KeyError:
                column = columns[name] = ([], [])
                appends[0][name], appends[1][name] = column[0].append, column[1].append
                append[name](value)
    dated = _dated_counts(converted_leads)
    for name, (no_values, yes_values) in columns.items():
        buyers, buyer_texts, buyer_numbers = _split(yes_values)
        rest, rest_texts, rest_numbers = _split(no_values)
        candidates = [
            _presence(name, _Counts(buyers, rest), converters, others),
            _threshold(name, buyer_numbers, rest_numbers),
            *_values(name, buyer_texts, rest_texts, converters, others),
            _dated(name, dated.get(name)),
        ]
        # The strongest evidence, the first of equals: presence, a threshold, a value, a date.
        found = [c for c in candidates if c is not None]
        if found:
            yield max(found, key=lambda f: float(f.figures["strength"]))


def _split(values: list[Any]) -> tuple[int, Counter[Any], list[float]]:
    """How many of ``values`` are filled in, the texts and yes/no values among them
    counted, and the numbers sorted (a column of one kind takes the short way)."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        texts = Counter(values)
        return len(values) - texts.pop("", 0), texts, _numeric(texts)
    if kinds <= {str, bool}:
        texts = Counter(values)
        return len(values) - texts.pop("", 0), texts, []
    if kinds <= {int, float}:
        return len(values), Counter(), sorted(values)
    present = [v for v in values if v is not None and v != "" and v != []]
    texts = Counter(v for v in present if isinstance(v, str | bool))
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    return len(present), texts, sorted(numbers)


def _numeric(texts: Counter[str]) -> list[float]:
    """The numbers a column of text holds when every value is one (a CSV history keeps
    lead fields such as employees as text), sorted; else none."""
    try:
        parsed = [(float(text), n) for text, n in texts.items()]
    except ValueError:
        return []
    if not all(math.isfinite(number) for number, _ in parsed):  # "nan" is text, not a number
        return []
    return sorted(chain.from_iterable(repeat(number, n) for number, n in parsed))


def _dated_counts(converters: Iterable[HistoryLead]) -> dict[str, _Counts]:
    """Per field, how many converters have a date in it on or after their conversion day
    (``yes``) and before it (``no``)."""
    dated: dict[str, _Counts] = {}
    for lead in converters:
        if lead.outcome.converted_at is None:
            continue
        outcome_day = lead.outcome.converted_at.date()
        for name, value in lead.fields.items():
            day = _day(value) if isinstance(value, str) else None
            if day is not None:
                counts = dated.setdefault(name, _Counts())
                if day >= outcome_day:
                    counts.yes += 1
                else:
                    counts.no += 1
    return dated


def _day(text: str) -> date | None:
    """The day an ISO date or time names, or None (cheap for text that is not one)."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-" or not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _separates(yes: float, no: float, support: int) -> bool:
    """True when shares ``yes`` of converters and ``no`` of the rest (``support``
    converters) look like the outcome itself rather than a sign of it."""
    if support < MIN_SUPPORT:
        return False
    only_converters = yes >= CONVERTER_SHARE and no <= RARE_ELSEWHERE
    return abs(yes - no) >= SEPARATION or only_converters


def _presence(name: str, counts: _Counts, converters: int, others: int) -> Finding | None:
    yes, no = counts.yes / converters, counts.no / others
    if not _separates(yes, no, counts.yes if yes >= no else converters - counts.yes):
        return None
    return Finding(
        "leakage",
        name,
        f"'{name}' is filled in for {share(yes)} of converters and {share(no)} of the rest "
        f"({counts.yes} of {converters}; {counts.no} of {others}): it looks recorded "
        "after the outcome (a 'closed' tag, a 'customer since' date), not known before "
        "the sale.",
        {"evidence": "presence", "converters": yes, "others": no, "strength": abs(yes - no)},
    )


def _values(
    name: str, buyers: Counter[Any], rest: Counter[Any], converters: int, others: int
) -> Iterable[Finding]:
    common = [value for value, _ in (buyers + rest).most_common(_VALUES_PER_FIELD)]
    by_value = {value: _Counts(buyers[value], rest[value]) for value in common}
    for value, pair in by_value.items():
        yes, no = pair.yes / converters, pair.no / others
        if not _separates(yes, no, pair.yes if yes >= no else converters - pair.yes):
            continue
        yield Finding(
            "leakage",
            name,
            f"'{name}' is {value!r} for {share(yes)} of converters and {share(no)} of the "
            f"rest ({pair.yes} of {converters}; {pair.no} of {others}): a value like that "
            "is usually set when the deal is won or lost (a stage of 'won', a 'closed' tag), "
            "not known before the sale.",
            {
                "evidence": "value",
                "value": value if isinstance(value, str | bool) else str(value),
                "converters": yes,
                "others": no,
                "strength": abs(yes - no),
            },
        )


def _threshold(name: str, buyers: list[float], rest: list[float]) -> Finding | None:
    """The number threshold that best tells converters from the rest (shares among the
    leads with a number; ``buyers`` and ``rest`` sorted), when it nearly separates them.

    The best "at least t" is at some converter's value, and the best "at most t" too (the
    share of converters up to t only grows at their values), so only those are tried."""
    if len(buyers) < MIN_SUPPORT or len(rest) < MIN_SUPPORT:
        return None
    best = (0.0, "", 0.0, 0.0, 0.0)  # separation, side, threshold, converters, others
    for value in sorted(set(buyers)):
        yes = 1 - bisect_left(buyers, value) / len(buyers)
        no = 1 - bisect_left(rest, value) / len(rest)
        if yes - no > best[0]:
            best = (yes - no, "at least", value, yes, no)
        yes = bisect_right(buyers, value) / len(buyers)
        no = bisect_right(rest, value) / len(rest)
        if yes - no > best[0]:
            best = (yes - no, "at most", value, yes, no)
    separation, side, threshold, yes, no = best
    if separation < SEPARATION:
        return None
    return Finding(
        "leakage",
        name,
        f"'{name}' is {side} {threshold:g} for {share(yes)} of converters and {share(no)} of "
        "the rest: it nearly separates buyers from the others, which facts known before a "
        "sale rarely do (is it counted after the outcome, e.g. days as a customer?).",
        {
            "evidence": "threshold",
            "threshold": threshold,
            "converters": yes,
            "others": no,
            "strength": separation,
        },
    )


def _dated(name: str, counts: _Counts | None) -> Finding | None:
    if counts is None or counts.yes < MIN_SUPPORT:
        return None
    late = counts.yes / (counts.yes + counts.no)
    if late < LATE_SHARE:
        return None
    return Finding(
        "leakage",
        name,
        f"'{name}' is a date on or after the conversion for {share(late)} of the converters "
        f"that have it ({counts.yes} of {counts.yes + counts.no}): it was recorded after the "
        "outcome.",
        {"evidence": "date", "converters": late, "strength": late},
    )


def _event_findings(leads: Sequence[HistoryLead], others: int) -> Iterable[Finding]:
    have: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for lead in leads:
        converted_at = lead.outcome.converted_at
        if converted_at is None or not lead.outcome.converted:
            continue
        first: dict[str, datetime] = {}
        for event in lead.events:
            if event.type not in first or event.occurred_at < first[event.type]:
                first[event.type] = event.occurred_at
        have.update(first.keys())
        late.update(kind for kind, at in first.items() if at >= converted_at)
    flagged = {
        kind for kind, n in have.items() if n >= MIN_SUPPORT and late[kind] / n >= LATE_SHARE
    }
    # The rest's events are only looked at for the types flagged (most histories: none),
    # as most of a history's events are theirs.
    elsewhere: Counter[str] = Counter()
    for lead in leads if flagged else ():
        if not lead.outcome.converted:
            elsewhere.update({event.type for event in lead.events} & flagged)
    for kind in sorted(flagged):
        n, after, rest = have[kind], late[kind] / have[kind], elsewhere[kind] / others
        yield Finding(
            "leakage",
            kind,
            f"'{kind}' events come after the conversion: for {share(after)} of the "
            f"converters that have one, the first was on or after the conversion "
            f"({late[kind]} of {n}); {share(rest)} of the rest have one. The backtest "
            "ignores events after a conversion, but a rule on them only fires once the deal "
            "is won and says nothing about who will buy.",
            {"evidence": "event", "converters": after, "others": rest, "strength": after},
        )


# ---------------------------------------------------------------- protected attributes


def field_names(history: History | Iterable[HistoryLead]) -> list[str]:
    """Every field name some lead of ``history`` has, sorted (what ``protected_warnings``
    looks at in a history)."""
    names: set[str] = set()
    for lead in history.leads if isinstance(history, History) else history:
        names.update(lead.fields)
    return sorted(names)


def protected_warnings(
    names: Iterable[str],
    *,
    icp: ICP | None = None,
    scoring: ScoringModel | None = None,
    categories: Sequence[Category] | None = None,
) -> list[Finding]:
    """Facts (``names``: a history's fields), ICP criteria and gates, and scoring rule
    conditions that name a protected characteristic or a proxy for one; one finding per
    fact, protected ones first. ``categories``: the names to look for (default: the
    bundled ``protected_names.yaml``)."""
    seen: dict[str, tuple[Category, list[str]]] = {}

    def look(fact: str, texts: Iterable[str], place: str | None) -> None:
        for text in texts:
            found = categories_named(text, categories)
            if found:
                _, places = seen.setdefault(fact, (found[0], []))
                if place and place not in places:
                    places.append(place)
                return

    in_history = list(dict.fromkeys(names))
    for name in in_history:
        look(name, [_short(name)], None)
    for gate in icp.gates if icp else ():
        look(
            gate.field,
            [_short(gate.field), gate.id],
            f"ICP gate '{gate.id}'{place_in(icp, gate.line)}",
        )
    for criterion in icp.criteria if icp else ():
        texts = [_short(criterion.field), criterion.id, criterion.label]
        texts += [band.label for band in criterion.bands if band.label]
        look(
            criterion.field, texts, f"ICP criterion '{criterion.id}'{place_in(icp, criterion.line)}"
        )
    for rule in scoring.rules if scoring else ():
        for name, _ in rule.conditions.properties:
            where = f"scoring rule '{rule.id}'{place_in(scoring, rule.line)}"
            look(f"{rule.event}.{name}", [name], where)
    findings = [
        _protected(fact, category, tuple(places), fact in in_history)
        for fact, (category, places) in seen.items()
    ]
    return sorted(findings, key=lambda f: (f.kind != "protected", not f.used_by, f.fact))


def _short(name: str) -> str:
    """A field name without the prefixes every field of its kind has (``attributes.``,
    ``history.``, ``account.``), which name no characteristic."""
    parts = name.split(".")
    while len(parts) > 1 and parts[0] in ("attributes", "history", "account"):
        parts = parts[1:]
    return ".".join(parts)


def _protected(fact: str, category: Category, used_by: tuple[str, ...], held: bool) -> Finding:
    if category.kind == "protected":
        what = f"'{fact}' looks like {category.label}, a protected characteristic."
        if used_by:
            advice = (
                f" Used by {'; '.join(used_by)}: grading or scoring people on it may "
                "discriminate unlawfully; remove it."
            )
        else:
            advice = (
                " Not used by the files checked; keep it out of the ICP, the scoring and any model."
            )
    else:
        what = f"'{fact}' is a proxy worth a look: {category.label}."
        if used_by:
            advice = (
                f" Used by {'; '.join(used_by)}: check that it does not grade people by what "
                "it stands in for."
            )
        else:
            advice = " Not used by the files checked; keep it out of any model."
    where = " The history has it." if held else ""
    return Finding(
        category.kind,
        fact,
        what + where + advice,
        {"category": category.id, "in_history": held},
        used_by,
    )

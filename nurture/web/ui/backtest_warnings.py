"""The backtest's warnings (``nurture.backtest.warnings``) worded for the results page in
the reader's language, from each finding's kind and figures rather than its English
message (docs/backtest.md#warnings-leakage-and-protected-attributes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from nurture.web.ui.formatting import percent_text

# The categories of nurture/backtest/protected_names.yaml, by id.
CATEGORY_LABELS: Mapping[str, Any] = {
    "age": _l("age or date of birth"),
    "sex": _l("sex or gender"),
    "race": _l("race, ethnicity or skin colour"),
    "religion": _l("religion or belief"),
    "nationality": _l("nationality or national origin"),
    "disability": _l("disability or health"),
    "sexual-orientation": _l("sexual orientation"),
    "family": _l("marital or family status"),
    "pregnancy": _l("pregnancy or parental leave"),
    "politics": _l("political opinion or trade-union membership"),
    "first-name": _l("first name (may stand in for sex or origin)"),
    "salutation": _l("salutation (stands in for sex)"),
    "photo": _l("photo (shows age, sex and origin)"),
    "postcode": _l("postcode (may stand in for origin or income)"),
}


@dataclass(frozen=True)
class WarningNote:
    """One warning as the page shows it: what was found, and what to do about it."""

    kind: str
    fact: str
    finding: str
    advice: str
    used_by: tuple[str, ...]


def warning_notes(results: Mapping[str, Any]) -> list[WarningNote]:
    """The run's warnings, worded (a run from before warnings were kept has none)."""
    return [_note(item) for item in results.get("warnings") or ()]


def _share(value: Any) -> str:
    return percent_text(float(value or 0))


def _note(item: Mapping[str, Any]) -> WarningNote:
    kind, fact = str(item.get("kind", "")), str(item.get("fact", ""))
    figures: Mapping[str, Any] = item.get("figures") or {}
    used_by = tuple(str(place) for place in item.get("used_by") or ())
    shares = {
        "fact": fact,
        "converters": _share(figures.get("converters")),
        "others": _share(figures.get("others")),
    }
    evidence = figures.get("evidence")
    if kind in ("protected", "proxy"):
        category = str(figures.get("category", ""))
        label = CATEGORY_LABELS.get(category, category)
        if kind == "protected":
            finding = _("“%(fact)s” looks like %(category)s, a protected characteristic.",
                        fact=fact, category=label)  # fmt: skip
            advice = (
                _("Grading or scoring people on it may discriminate unlawfully: remove it.")
                if used_by
                else _("Not used by the files checked; keep it out of the ICP and scoring.")
            )
        else:
            finding = _("“%(fact)s” is a proxy worth a look: %(category)s.",
                        fact=fact, category=label)  # fmt: skip
            advice = (
                _("Check that it does not grade people by what it stands in for.")
                if used_by
                else _("Not used by the files checked; keep it out of any model.")
            )
        return WarningNote(kind, fact, finding, advice, used_by)
    if evidence == "value":
        finding = _(
            "“%(fact)s” is “%(value)s” for %(converters)s of converters and %(others)s of the "
            "rest: a value like that is usually set when the deal is won or lost.",
            value=str(figures.get("value", "")), **shares,
        )  # fmt: skip
    elif evidence == "threshold":
        threshold = f"{float(figures.get('threshold', 0)):g}"
        if figures.get("side") == "at_most":
            finding = _(
                "“%(fact)s” is at most %(threshold)s for %(converters)s of converters and "
                "%(others)s of the rest: it nearly separates buyers from the others.",
                threshold=threshold, **shares,
            )  # fmt: skip
        else:
            finding = _(
                "“%(fact)s” is at least %(threshold)s for %(converters)s of converters and "
                "%(others)s of the rest: it nearly separates buyers from the others.",
                threshold=threshold, **shares,
            )  # fmt: skip
    elif evidence == "date":
        finding = _(
            "“%(fact)s” is a date on or after the conversion for %(converters)s of the "
            "converters that have it: it was recorded after the outcome.",
            **shares,
        )
    elif evidence == "event":
        finding = _(
            "“%(fact)s” events come after the conversion for %(converters)s of the converters "
            "that have one (%(others)s of the rest have one): a rule on them only fires once "
            "the deal is won.",
            **shares,
        )
    else:
        finding = _(
            "“%(fact)s” is filled in for %(converters)s of converters and %(others)s of the "
            "rest: it looks recorded after the outcome, not known before the sale.",
            **shares,
        )
    advice = (
        _("Remove it from the files that use it before trusting the figures.")
        if used_by
        else _("Not used by the files checked; keep it out of the ICP, scoring and any model.")
    )
    return WarningNote(kind, fact, finding, advice, used_by)

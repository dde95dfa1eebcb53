"""Email and campaign results (pure): the figures of a set of emails, their rates, and the
comparison of two sides (two periods, or two versions of one campaign).

The figures follow the emails **sent** in a period (``messages.sent_at``), whenever the
person then opened, clicked or unsubscribed, as the campaign page does
(``nurture.reports.campaigns``: the same definitions, so the two never disagree):

- ``delivered`` = ``sent`` − ``bounced`` (a bounce report of any kind);
- ``bounced`` = ``hard_bounced`` + ``soft_bounced``: hard when the bounce's decision was to
  suppress the address (it does not exist), soft for every other bounce (a full mailbox, a
  refusal for a reason on the sender's side);
- ``opened`` / ``clicked``: emails a person opened (a click counts as an open) / clicked;
  ``machine_opened`` / ``machine_clicked``: emails with an open / click flagged as a
  machine's (mail privacy proxies, prefetch, link scanners), never in the human figures;
- ``clicks``: every human click (``clicked`` counts emails, ``clicks`` the hits);
- ``recipients``: distinct leads with a delivered email; ``conversions``: distinct leads
  whose enrolment reached the campaign's goal after a delivered email of it, in the period.

Rates are fractions, None where the denominator is 0 (docs/analytics.md, "Email and
campaign results").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date

from nurture.analytics.filters import FilterError, parse_filter

# The report's own groupings, before the funnel's (which read the lead or the month).
EMAIL_GROUPS: tuple[str, ...] = ("campaign", "step", "template", "version")
CAMPAIGN_GROUP_BY: tuple[str, ...] = (
    *EMAIL_GROUPS,
    "source",
    "owner",
    "grade",
    "segment",
    "month",
)
# (name, numerator, denominator): every rate of the report.
EMAIL_RATES: tuple[tuple[str, str, str], ...] = (
    ("delivery_rate", "delivered", "sent"),
    ("bounce_rate", "bounced", "sent"),
    ("open_rate", "opened", "delivered"),
    ("click_rate", "clicked", "delivered"),
    ("click_to_open", "clicked", "opened"),
    ("unsubscribe_rate", "unsubscribed", "delivered"),
    ("complaint_rate", "complained", "delivered"),
    ("conversion_rate", "conversions", "recipients"),
)
_VERSIONS = re.compile(r"^\s*v?(\d{1,6})\s*,\s*v?(\d{1,6})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class EmailResults:
    """What happened to one set of emails (see the module's definitions)."""

    sent: int = 0
    hard_bounced: int = 0
    soft_bounced: int = 0
    opened: int = 0
    machine_opened: int = 0
    clicked: int = 0
    clicks: int = 0
    machine_clicked: int = 0
    unsubscribed: int = 0
    complained: int = 0
    recipients: int = 0
    conversions: int = 0

    @property
    def bounced(self) -> int:
        """Every bounce, hard or soft."""
        return self.hard_bounced + self.soft_bounced

    @property
    def delivered(self) -> int:
        """Sent and not bounced."""
        return max(self.sent - self.bounced, 0)

    def figures(self) -> dict[str, int]:
        """Every figure by name, in the report's order (``FIGURES``)."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values["bounced"] = self.bounced
        values["delivered"] = self.delivered
        return {name: values[name] for name in FIGURES}

    def rates(self) -> dict[str, float | None]:
        """Every rate of ``EMAIL_RATES`` (None when its denominator is 0)."""
        values = self.figures()
        return {
            name: values[top] / values[bottom] if values[bottom] else None
            for name, top, bottom in EMAIL_RATES
        }


FIGURES: tuple[str, ...] = (
    "sent",
    "delivered",
    "bounced",
    "hard_bounced",
    "soft_bounced",
    "opened",
    "machine_opened",
    "clicked",
    "clicks",
    "machine_clicked",
    "unsubscribed",
    "complained",
    "recipients",
    "conversions",
)
RATE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in EMAIL_RATES)


@dataclass(frozen=True)
class Comparison:
    """What a report's figures are compared with: another period ``[start, end)``, or
    (with ``versions``) version ``versions[0]`` of the one campaign, the figures being
    those of version ``versions[1]``."""

    start: date | None = None
    end: date | None = None
    versions: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, object]:
        """The comparison as plain values."""
        if self.versions is not None:
            return {"versions": list(self.versions)}
        assert self.start is not None and self.end is not None
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def parse_comparison(
    *,
    compare_from: str | None,
    compare_to: str | None,
    versions: str | None,
    campaign: str | None,
    group_by: str | None,
) -> Comparison | None:
    """The comparison asked for (None: none), or ``FilterError`` naming each bad argument
    (``compare_from``, ``compare_to``, ``versions``). Two periods compare the same way as
    the report's period (``[from, to)``); versions need the one campaign they belong to."""
    errors: dict[str, str] = {}
    wants_period = bool((compare_from or "").strip() or (compare_to or "").strip())
    wanted_versions = (versions or "").strip()
    if wants_period and wanted_versions:
        errors["versions"] = "compare two periods or two versions, not both"
        raise FilterError(errors)
    if wanted_versions:
        match = _VERSIONS.match(wanted_versions)
        if match is None:
            errors["versions"] = (
                f"{wanted_versions[:40]!r} is not two version numbers: use A,B (e.g. 1,2)"
            )
        elif match[1] == match[2]:
            errors["versions"] = "name two different versions"
        if not (campaign or "").strip():
            errors["versions"] = "comparing versions needs --campaign (the campaign's key)"
        if group_by == "version":
            errors["by"] = "versions are what is compared: group by something else"
        if errors:
            raise FilterError(errors)
        assert match is not None
        return Comparison(versions=(int(match[1]), int(match[2])))
    if not wants_period:
        return None
    # A period is given in full: half of one would silently default the other half.
    for name, value in (("compare_from", compare_from), ("compare_to", compare_to)):
        if not (value or "").strip():
            errors[name] = "give both ends of the period to compare with"
    if errors:
        raise FilterError(errors)
    try:
        # Both ends are given, so the defaults (which read the day) play no part.
        period = parse_filter(start=compare_from, end=compare_to, today=date(1970, 1, 1))
    except FilterError as error:
        raise FilterError({f"compare_{name}": why for name, why in error.errors.items()}) from None
    return Comparison(start=period.start, end=period.end)


def figure_change(figure: int, baseline: int) -> dict[str, float | int | None]:
    """How a figure moved from ``baseline``: ``absolute`` (figure − baseline) and
    ``relative`` (absolute ÷ baseline; None when the baseline is 0)."""
    absolute = figure - baseline
    return {"absolute": absolute, "relative": absolute / baseline if baseline else None}


def rate_change(rate: float | None, baseline: float | None) -> dict[str, float | None]:
    """How a rate moved from ``baseline``: ``points`` (percentage points: 0.25 → 0.30 is
    5.0) and ``relative`` (the change ÷ baseline: 0.2); None where either side has none."""
    if rate is None or baseline is None:
        return {"points": None, "relative": None}
    points = round((rate - baseline) * 100, 6)
    return {"points": points, "relative": (rate - baseline) / baseline if baseline else None}

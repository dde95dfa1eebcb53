"""Attribution's rules (pure): how a won deal's value is shared among the touches before it
(docs/analytics.md, "Attribution").

The models, for ``n`` touches in time order:

- ``first``: the first touch gets everything;
- ``last``: the last touch gets everything;
- ``linear``: every touch gets ``1/n``;
- ``u-shaped``: the first and the last touch get 40 % each and the touches between them
  share the other 20 % equally; one touch gets 100 %, two get 50 % each.

Money is shared in cents so that the credits of a deal add up to its value exactly: each
touch gets the whole cents of its exact share, and the cents left over go one each to the
touches whose exact share lost the most in rounding (the earlier touch first on a tie).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from urllib.parse import parse_qs, urlsplit

MODELS: tuple[str, ...] = ("first", "last", "linear", "u-shaped")
# The ways a touch can reach a person.
CHANNELS: tuple[str, ...] = ("email", "page", "form", "source")
# What a deal without any touch is credited to (in every grouping).
NO_TOUCH = "(no touch)"
# Touches further back than this before the win are not counted (``--lookback``).
DEFAULT_LOOKBACK_DAYS = 365
MAX_LOOKBACK_DAYS = 3660
_U_ENDS = Fraction(2, 5)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Touch:
    """One thing the person did before the win (or where it came from).

    ``channel`` is one of ``CHANNELS``; ``campaign`` and ``step`` name the campaign email
    of a click; ``source`` is where the touch came from (the ``utm_source`` of its link or
    page, else the lead's source)."""

    at: datetime
    channel: str
    campaign: str | None = None
    step: str | None = None
    source: str | None = None


def weights(model: str, count: int) -> list[Fraction]:
    """Each of ``count`` touches' share of the deal under ``model`` (they add up to 1).

    ``ValueError`` for an unknown model or a count below 1."""
    if count < 1:
        raise ValueError("a deal's credit needs at least one touch")
    if model == "first":
        return [Fraction(1)] + [Fraction(0)] * (count - 1)
    if model == "last":
        return [Fraction(0)] * (count - 1) + [Fraction(1)]
    if model == "linear":
        return [Fraction(1, count)] * count
    if model == "u-shaped":
        if count == 1:
            return [Fraction(1)]
        if count == 2:
            return [Fraction(1, 2), Fraction(1, 2)]
        middle = (1 - 2 * _U_ENDS) / (count - 2)
        return [_U_ENDS, *([middle] * (count - 2)), _U_ENDS]
    raise ValueError(f"unknown attribution model {model!r}: use one of {', '.join(MODELS)}")


def share(amount: Decimal, parts: Sequence[Fraction]) -> list[Decimal]:
    """``amount`` (in cents) split by ``parts`` (adding up to 1): whole cents each, and the
    cents left over one each to the largest rounding losses, earlier first on a tie; the
    result adds up to ``amount`` exactly."""
    cents = int((amount / _CENT).to_integral_value())
    exact = [part * cents for part in parts]
    whole = [int(value) for value in exact]  # value ≥ 0: int() is the floor
    left = cents - sum(whole)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in order[:left]:
        whole[i] += 1
    return [Decimal(value) * _CENT for value in whole]


def credits(model: str, amount: Decimal, count: int) -> list[Decimal]:
    """The money each of ``count`` touches is credited with under ``model``."""
    return share(amount, weights(model, count))


def in_window(touch_at: datetime, won_at: datetime, lookback_days: int) -> bool:
    """Whether a touch counts for a deal won at ``won_at``: strictly before the win, and
    not more than ``lookback_days`` days before it."""
    return touch_at < won_at and (won_at - touch_at).total_seconds() <= lookback_days * 86400


def url_source(url: str | None) -> str | None:
    """The ``utm_source`` of a link or page address, if it names one."""
    if not url:
        return None
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return None
    values = query.get("utm_source")
    value = values[0].strip() if values else ""
    return value[:100] or None


def group_of(touch: Touch | None, by: str | None) -> str | None:
    """The name a touch is credited under for ``--by`` (``campaign``, ``source``,
    ``channel``, or None for one row); ``None`` touch means the deal had none."""
    if touch is None:
        return NO_TOUCH if by is not None else None
    if by == "campaign":
        return touch.campaign
    if by == "source":
        return touch.source
    if by == "channel":
        return touch.channel
    return None

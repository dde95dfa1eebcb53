"""Values of the settings that features interpret: per-domain throttles and the warm-up
schedule (sending), the SLA policy (handoff), the account score method (account view).

They are parsed and checked when the settings are read, so a bad value stops a command at
start with the variable's name; they live here, under the configuration, so that the
configuration never has to import the features that use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from nurture.platform.units import parse_duration

# What may follow a missed SLA deadline.
ESCALATIONS = ("manager", "reassign")
# The account score method "topN": the sum of the N best scores of the account's people.
TOP_N_RE = re.compile(r"top(\d{1,2})")


@dataclass(frozen=True)
class DomainLimit:
    """At most ``max_emails`` to ``domain`` in any ``per``."""

    domain: str
    max_emails: int
    per: timedelta


def parse_domain_limits(text: str) -> tuple[DomainLimit, ...]:
    """Parse ``gmail.com=2000/1h, yahoo.com=1000/1h``."""
    limits = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        domain, equals, rule = part.partition("=")
        count, slash, per = rule.partition("/")
        if not equals or not slash or not count.strip().isdigit() or not domain.strip():
            raise ValueError(f"bad domain throttle {part!r}: use DOMAIN=COUNT/DURATION")
        limits.append(
            DomainLimit(domain.strip().lower().lstrip("@"), int(count), parse_duration(per))
        )
    return tuple(limits)


def parse_warmup_schedule(text: str) -> tuple[int, ...]:
    """Parse ``50,100,200`` (daily caps, day 1 first)."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ValueError("use daily caps separated by commas, e.g. 50,100,200") from exc
    if not values or any(v <= 0 for v in values):
        raise ValueError("use positive daily caps separated by commas, e.g. 50,100,200")
    return values


@dataclass(frozen=True)
class SlaPolicy:
    """Respond (accept or reject) within ``accept_within`` of working time; remind the owner
    after ``remind_at`` of it (a fraction, None: no reminder); after the deadline, do each
    of ``escalate`` (``manager``: email the owner's manager; ``reassign``: give the lead to
    the next available rep by the assignment rules)."""

    accept_within: timedelta = timedelta(hours=1)
    remind_at: float | None = 0.75
    escalate: tuple[str, ...] = ("manager",)

    def describe(self) -> str:
        """``1 business hour``, ``30 business minutes``, ``2 business days`` (8 h each)."""
        seconds = int(self.accept_within.total_seconds())
        if seconds % 3600 == 0:
            count, unit = seconds // 3600, "hour"
        elif seconds % 60 == 0:
            count, unit = seconds // 60, "minute"
        else:
            count, unit = seconds, "second"
        return f"{count} business {unit}{'s' if count != 1 else ''}"


def parse_accept_within(text: str) -> timedelta | None:
    """``1h``, ``30m``, ``2d`` (working time); ``off`` turns the SLA off."""
    if text.strip().lower() in ("off", "none", "0"):
        return None
    value = parse_duration(text)
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def parse_remind_at(text: str) -> float | None:
    """``75%`` (of the SLA's working time) or ``off``."""
    value = text.strip().lower()
    if value in ("off", "none", "0", "0%"):
        return None
    number = value.removesuffix("%")
    try:
        share = float(number) / 100
    except ValueError:
        raise ValueError("use a percentage such as 75% (or off)") from None
    if not 0 < share < 1:
        raise ValueError("use a percentage between 1% and 99% (or off)")
    return share


def parse_escalate(text: str) -> tuple[str, ...]:
    """``manager``, ``reassign``, ``manager,reassign`` or ``none``."""
    items = [item.strip().lower() for item in text.split(",") if item.strip()]
    if items in ([], ["none"], ["off"]):
        return ()
    unknown = [item for item in items if item not in ESCALATIONS]
    if unknown:
        raise ValueError(f"unknown escalation {unknown[0]!r}: use manager, reassign, both or none")
    return tuple(dict.fromkeys(items))


def parse_account_score_method(text: str) -> str:
    """``sum``, ``max`` or ``topN`` (N from 1 to 99), e.g. ``top3``."""
    value = text.strip().lower().replace("-", "")
    if value in ("sum", "max") or TOP_N_RE.fullmatch(value):
        if value.startswith("top") and int(value[3:]) < 1:
            raise ValueError("topN needs N of at least 1, e.g. top3")
        return value
    raise ValueError("use sum, max or topN (e.g. top3)")

"""A short English reading of a campaign condition, the default name of an exit rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from nurture.campaigns.spec import (
    TEMPERATURES,
    AllOf,
    AnyOf,
    AttributeCompare,
    Clicked,
    Condition,
    EventSeen,
    Not,
    Opened,
    ScoreCompare,
    StageIn,
    TemperatureIn,
    Unsubscribed,
)
from nurture.campaigns.vocabulary import MAX_REASON
from nurture.files.parser import human_list
from nurture.leads.stages import LIFECYCLE_STAGES


def describe(condition: Condition) -> str:
    """A short English reading of a condition (the default name of an exit rule)."""
    text = _describe(condition)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _ordered(names: frozenset[str], order: Sequence[str]) -> str:
    return human_list([name for name in order if name in names])


def _describe(condition: Condition) -> str:
    match condition:
        case Opened(step=step):
            return f"opened {step}"
        case Clicked(step=step, url=url):
            return f"clicked {url} in {step}" if url else f"clicked {step}"
        case StageIn(stages=stages):
            return f"stage is {_ordered(stages, LIFECYCLE_STAGES)}"
        case TemperatureIn(temperatures=temperatures):
            return f"temperature is {_ordered(temperatures, TEMPERATURES)}"
        case ScoreCompare(op=op, value=value):
            return f"score {op} {value:g}"
        case AttributeCompare(name=name, op=op, value=value):
            if op == "exists":
                return f"{name} {'is set' if value else 'is not set'}"
            if isinstance(value, tuple):
                return f"{name} {op.replace('_', ' ')} {', '.join(map(str, value))}"
            return f"{name} {op} {value}"
        case EventSeen(type=event_type, within=within):
            return f"{event_type} within {_describe_duration(within)}" if within else event_type
        case Unsubscribed():
            return "unsubscribed"
        case AllOf(items=items):
            return " and ".join(_describe(item) for item in items)
        case AnyOf(items=items):
            return " or ".join(_describe(item) for item in items)
        case Not(item=Unsubscribed()):
            return "subscribed"
        case Not(item=item):
            return f"not ({_describe(item)})"
    return repr(condition)


def _describe_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

"""The render budget: how much one render of a template may do, and the meter holding it.

Templates are written by marketers and rendered by the web app from unsaved text (the
editor's check, the preview), by ``nurture campaigns validate`` and by the sending worker,
so a template must not be able to stall the process that renders it. Every render is held
to three limits (``RenderLimits``; settings ``NURTURE_RENDER_MAX_*``):

- ``max_chars``: characters produced. Everything printed counts as it is printed, and no
  single text or collection the template builds may be larger: ``'x' * 10**9`` is refused
  before it is built (``nurture.rendering.guards``), not after it has taken the memory.
- ``max_steps``: loop turns, calls and filters. Jinja's sandbox caps one ``range()`` at
  100,000 items, but loops inside loops multiply, and a macro may call itself.
- ``max_seconds``: processor time of the rendering thread, the backstop for steps that are
  each expensive. It is read from inside the render every 32 steps: a signal
  or a watchdog thread cannot stop a render in a threaded web server.

The meter of the current render lives in a context variable, so one sandbox serves every
thread; the sandbox's hooks (``nurture.rendering.environment``) charge it. Outside a render
(nothing sets the variable) only the size checks apply.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, MappingView
from contextvars import ContextVar, Token
from dataclasses import dataclass, fields, is_dataclass
from itertools import chain
from typing import Any, TypeVar, cast

from jinja2.utils import Namespace

T = TypeVar("T")

# The processor clock costs a system call (~1 µs), so it is read every 32 steps only.
CLOCK_MASK = 31

# Python refuses to print an integer of more than 4,300 digits (about 14,300 bits), and
# arithmetic on much larger ones takes seconds in one operation.
MAX_DIGITS = 4_300
MAX_INT_BITS = 14_300


@dataclass(frozen=True)
class RenderLimits:
    """How much one render may do. The defaults are far above what any email needs (a
    typical one prints ~20,000 characters in a few dozen steps, in ~40 µs)."""

    max_chars: int = 2_000_000
    max_steps: int = 1_000_000
    max_seconds: float = 1.0


class RenderLimitExceeded(Exception):
    """A render went over one of its limits; ``limit`` names which ("chars", "steps",
    "seconds", "number") and the message says it in a marketer's words."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


def too_many_chars(size: int, limits: RenderLimits) -> RenderLimitExceeded:
    """The error for a text or collection the template was about to build."""
    return RenderLimitExceeded(
        "chars",
        f"this would build about {size:,} characters, more than the {limits.max_chars:,} "
        "a template may produce",
    )


def too_much_output(limits: RenderLimits) -> RenderLimitExceeded:
    """The error for a render whose printed output went over the limit."""
    return RenderLimitExceeded(
        "chars",
        f"the template produced more than {limits.max_chars:,} characters (an email is "
        "rarely over 100,000) — a loop printing too much?",
    )


def too_large_number(bits: int) -> RenderLimitExceeded:
    """The error for arithmetic whose result would have ``bits`` bits."""
    return RenderLimitExceeded(
        "number",
        f"this would make a number of about {bits * 3 // 10:,} digits; a template may use "
        f"numbers of up to {MAX_DIGITS:,} digits",
    )


class Meter:
    """What one render has used so far: steps, and characters printed. The sandbox's hooks
    count on it directly on their hot paths (``steps += 1``); the checks are here."""

    __slots__ = ("limits", "max_chars", "produced", "started", "steps")

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.max_chars = limits.max_chars
        self.steps = 0
        self.produced = 0
        # The processor time at the first clock reading (the first 32 steps are not timed:
        # a render that takes fewer steps never pays for the clock).
        self.started: float | None = None

    def step(self) -> None:
        """Count one call or filter."""
        self.steps += 1
        if not self.steps & CLOCK_MASK:
            self.check()

    def check(self) -> None:
        """Raise RenderLimitExceeded when the steps or the processor time are used up."""
        limits = self.limits
        if self.steps > limits.max_steps:
            raise RenderLimitExceeded(
                "steps",
                f"the template ran more than {limits.max_steps:,} steps (loop turns, calls "
                "and filters) — a loop inside a loop, or a macro that calls itself?",
            )
        now = time.thread_time()
        if self.started is None:
            self.started = now
        elif now - self.started > limits.max_seconds:
            raise RenderLimitExceeded(
                "seconds",
                f"the template took more than {limits.max_seconds:g} s of processor time "
                "to render — a loop inside a loop, or work on very long texts?",
            )

    def loop(self, iterable: Iterable[T]) -> Iterator[T]:
        """``iterable`` with each item counted as a step (every ``{% for %}`` goes through
        this). A loop over a list, a dict or a text that cannot finish within the steps left
        fails before it starts (Jinja's ``break`` is not enabled)."""
        try:
            turns = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            turns = 0
        if self.steps + turns > self.limits.max_steps:
            self.steps += turns
            self.check()
        return self._counted(iterable)

    def _counted(self, iterable: Iterable[T]) -> Iterator[T]:
        # Item by item, so the clock is read during a long loop whose body takes no steps.
        for item in iterable:
            self.steps += 1
            if not self.steps & CLOCK_MASK:
                self.check()
            yield item


_METER: ContextVar[Meter | None] = ContextVar("nurture.rendering.meter", default=None)

#: The meter of the render running in this thread (or task), None outside a render.
current_meter = _METER.get


def start_metering(limits: RenderLimits) -> Token[Meter | None]:
    """Start a render's meter; hand the token to ``stop_metering`` when the render ends."""
    return _METER.set(Meter(limits))


def stop_metering(token: Token[Meter | None]) -> None:
    """End the render started with ``token``."""
    _METER.reset(token)


def check_output(parts: Iterable[str], limits: RenderLimits) -> None:
    """Raise RenderLimitExceeded when the pieces of one rendered text are too long to
    join. The pieces are references (a constant printed by a loop is one string many
    times), so counting them first costs no memory."""
    if sum(map(len, parts)) > limits.max_chars:
        raise too_much_output(limits)


# ---------------------------------------------------------------- sizes of values

_SCALARS = (float, type(None))
_END = object()
_COLLECTIONS = (list, tuple, set, frozenset, MappingView)


def text_size(value: Any, limit: int, indent: int = 0) -> int:
    """About how many characters ``value`` prints as (``str()``, ``repr()`` or JSON with
    ``indent``), counting every time a shared item appears; stops past ``limit``.

    A collection can hold one long text many times (``[s, s, s]``, nested again and
    again) and print as far more than it takes in memory; this is what printing it,
    joining it or turning it into JSON would cost. Iterative, so a deep or cyclic value
    only makes it count past ``limit``.
    """
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    total = 0
    # Iterators, not items: a collection of millions of items is walked one at a time.
    stack: list[tuple[Iterator[Any], int]] = [(iter((value,)), 0)]
    while stack:
        items, depth = stack[-1]
        item = next(items, _END)
        if item is _END:
            stack.pop()
            continue
        total += indent * depth + 2
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3
        elif isinstance(item, _SCALARS):
            total += 20
        elif isinstance(item, Mapping):
            stack.append((chain.from_iterable(item.items()), depth + 1))
        elif isinstance(item, _COLLECTIONS):
            stack.append((iter(cast("Iterable[Any]", item)), depth + 1))
        elif isinstance(item, Namespace):
            attrs = getattr(item, "_Namespace__attrs", None)
            if isinstance(attrs, dict):
                stack.append((iter((attrs,)), depth))
        elif is_dataclass(item) and not isinstance(item, type):
            stack.append((iter([getattr(item, f.name) for f in fields(item)]), depth + 1))
        else:
            total += 20
        if total > limit:
            return total
    return total

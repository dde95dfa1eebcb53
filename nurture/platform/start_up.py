"""What a one-process command does once it has started: move the objects start-up made
out of the cyclic garbage collector's way.

Start-up makes about 175,000 long-lived objects (modules, classes, SQLAlchemy's mappers,
the app). Python's cyclic collector walks all of them on every full collection, and a
command that makes many objects (an import of leads, a worker's batches) triggers many:
~1,140 collections in `nurture leads import` of 4,000 rows, which this makes 0.4-0.5 s
cheaper (about 15 % of the run's processor time, measured). ``gc.freeze`` moves every
object alive now into a permanent generation the collector skips; reference counting
still frees them, and later garbage is collected as before (docs/benchmarks.md,
"Start-up's objects out of the collector's way").

Only the process's entry points call it (the ``nurture`` console script, a sender
process), never a library call: a test process running many commands would otherwise
freeze its own garbage again and again.
"""

from __future__ import annotations

import gc

_state = {"wanted": False, "done": False}


def freeze_when_started() -> None:
    """Ask for ``started`` to freeze: called by an entry point before it starts the
    command, whose start-up ends where the command calls ``started``."""
    _state["wanted"] = True


def started() -> None:
    """Start-up is over: freeze what it made, once, when the entry point asked for it."""
    if _state["wanted"] and not _state["done"]:
        _state["done"] = True
        gc.freeze()

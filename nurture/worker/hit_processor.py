"""Entry point of the hit processor's process (``nurture.tracking.processor``): the
features' subscriptions are connected first, so the hits it turns into events are
rescored, and rescored leads reach readiness and the handoff, as in every other process."""

from __future__ import annotations

from nurture import wiring
from nurture.tracking import processor

ENTRY_MODULE = __name__


def main(argv: list[str] | None = None) -> None:
    """Connect the subscriptions, then run the processor until it is told to stop."""
    wiring.connect()
    processor.main(argv)


if __name__ == "__main__":
    main()

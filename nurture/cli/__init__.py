"""The ``nurture`` command line (click, through Flask's CLI group).

Each topic's commands live in their own module (``*_cmd``) and add themselves to the group
(``group.cli``) when imported. The group imports a command's modules only when that command
is used (``nurture.cli.commands`` lists them), so importing this package imports none.
"""

from __future__ import annotations

from nurture.cli.group import cli, runtime, valid_or_exit
from nurture.platform.start_up import freeze_when_started

__all__ = ["cli", "main", "runtime", "valid_or_exit"]


def main() -> None:
    """Console-script entry point."""
    # The command's start-up ends at its first `runtime()` (docs: nurture.platform.start_up).
    freeze_when_started()
    cli(prog_name="nurture")

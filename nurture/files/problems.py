"""Problems found in a marketer-edited file, each at the line it belongs to.

Every kind of file (campaigns, the scoring model, the sales team, the ICP and readiness files)
reports what is wrong as :class:`Problem` values, so the CLI, the sync and the worker print
them the same way: ``path:line: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a line (1-based; 0 when not known)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ProblemsError(ValueError):
    """Problems raised as one exception, one problem per line of the message.

    The base of each file kind's error (campaign, scoring, team, ICP/readiness), raised when
    stored data is not valid; ``problems`` keeps the list for callers that show each one.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def kind_name(value: Any) -> str:
    """How a YAML value reads to a marketer, for 'must be X, not Y' messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__

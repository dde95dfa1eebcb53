"""What is wrong with a template: the problem values every compile and render step reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template: the file, the line when known, and what is wrong."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class TemplateError(Exception):
    """A template cannot be compiled or rendered; ``problem`` says where and why."""

    def __init__(self, problem: TemplateProblem, more: tuple[TemplateProblem, ...] = ()) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.problems = (problem, *more)

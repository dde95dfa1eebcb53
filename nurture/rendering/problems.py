"""What is wrong with a template: the problem values every compile and render step reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template: the file, the line when known, and what is wrong."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ContentProblem(TemplateProblem):
    """A template that renders but whose email must not go out as it is: the legal footer
    is missing, or it carries another tool's merge tags that would reach the lead as
    written. ``verdict`` is how the campaign check words it (a ``TemplateProblem`` there
    "does not render")."""

    verdict: ClassVar[str] = "is not fit to send"
    # False when the problem is not the template's but the instance's (no postal address
    # configured): it is then shown without a file, and the same for every template.
    in_template: bool = True

    def __str__(self) -> str:
        return super().__str__() if self.in_template else self.message


class TemplateError(Exception):
    """A template cannot be compiled or rendered; ``problem`` says where and why."""

    def __init__(self, problem: TemplateProblem, more: tuple[TemplateProblem, ...] = ()) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.problems = (problem, *more)

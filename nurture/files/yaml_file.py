"""Reading a marketer-edited YAML file, shared by every kind of file the engine loads.

Campaigns, the scoring model, the sales team and the ICP/readiness files are all read the
same way: the text is read as UTF-8, its checksum is a version's identity, the YAML is read
with line numbers (``nurture.files.yaml_lines``), duplicate keys are problems, and the top must
be a mapping. Only what is *in* the mapping differs, so each kind keeps its own parser and
passes it to :func:`load_yaml_text` as ``build``. Nothing stops at the first problem, because
a marketer fixing a file wants the whole list at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

import yaml

from nurture.files.problems import Problem, kind_name
from nurture.files.yaml_lines import LineDict, LineLoader, own_line, to_plain

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


def checksum(text: str) -> str:
    """The sha256 hex digest of a file's text (a version's identity)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FileLoad(Generic[T]):
    """What loading one file gave: the parsed value when valid, and every problem.

    ``data`` is the plain YAML data (dicts, lists, text, numbers) when the text parsed as a
    mapping, valid or not: it is what a stored version keeps as its spec.
    """

    path: str
    value: T | None
    problems: list[Problem]
    checksum: str = ""
    text: str = ""
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the file gave a value and no problems."""
        return self.value is not None and not self.problems


class LoadFactory(Protocol[R_co]):
    """Builds a kind's load result; every kind's result takes these six fields in order."""

    def __call__(
        self,
        path: str,
        value: Any,
        problems: list[Problem],
        checksum: str = "",
        text: str = "",
        data: dict[str, Any] | None = None,
        /,
    ) -> R_co: ...


def read_file(path: str | Path, load_text: Callable[[str, str], R], failed: LoadFactory[R]) -> R:
    """Read ``path`` as UTF-8 and hand the text to ``load_text(text, name)``.

    A file that cannot be read, or is not UTF-8, becomes ``failed(name, None, [problem])``
    rather than an exception: it is one more problem to show the marketer.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return failed(name, None, [Problem(name, 1, f"not UTF-8 text: {exc.reason}")])
    except OSError as exc:
        return failed(name, None, [Problem(name, 0, f"cannot read file: {exc.strerror}")])
    return load_text(text, name)


def brief_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    """What PyYAML says went wrong, in its own words."""
    return exc.problem or exc.context or "unreadable YAML"


def detailed_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    """What PyYAML says went wrong, with the construct it was reading and where it started."""
    line = _error_line(exc)
    what = brief_yaml_error(exc)
    if exc.context and exc.problem and not exc.context.startswith("while "):
        what = f"{exc.context}, {exc.problem}"
    elif exc.context and exc.problem:
        # PyYAML's context names the construct being read ("while parsing a flow
        # sequence"); its start is often where the mistake is, so give its line too.
        where = exc.context.removeprefix("while ")
        start = exc.context_mark.line + 1 if exc.context_mark is not None else line
        what += f" ({where} that starts on line {start})" if start != line else f" ({where})"
    return what


def _error_line(exc: yaml.MarkedYAMLError) -> int:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else 1


@dataclass(frozen=True)
class YamlMapping:
    """YAML text read as far as its top mapping.

    ``data`` is the mapping (with line numbers) or None when the text is not one; then
    ``problems`` say why. Otherwise ``problems`` are the duplicate keys found on the way.
    """

    data: LineDict | None
    problems: list[Problem]


def read_yaml_mapping(
    text: str,
    name: str,
    not_mapping: str,
    *,
    describe_error: Callable[[yaml.MarkedYAMLError], str] = brief_yaml_error,
    later_key: str = "the later one wins",
) -> YamlMapping:
    """Read YAML ``text`` (``name`` names it in problems) keeping every line number.

    ``not_mapping`` is the problem when the top is a list or a value, followed by
    ``, not <what it is>``; ``later_key`` ends each duplicate-key problem.
    """
    try:
        loader = LineLoader(text)
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses (a NUL, a control character) fails before parsing,
        # with its position in the text rather than a line.
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        reason = f"character {shown} is not allowed in YAML ({exc.reason})"
        return YamlMapping(None, [Problem(name, line, f"YAML syntax error: {reason}")])
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        problem = Problem(name, _error_line(exc), f"YAML syntax error: {describe_error(exc)}")
        return YamlMapping(None, [problem])
    except yaml.YAMLError as exc:
        return YamlMapping(None, [Problem(name, 1, f"YAML syntax error: {exc}")])
    finally:
        loader.dispose()
    problems = [
        Problem(name, line, f"duplicate key {key!r} (first on line {first}): {later_key}")
        for line, key, first in loader.duplicate_keys
    ]
    if data is None:
        return YamlMapping(None, [*problems, Problem(name, 1, "the file is empty")])
    if not isinstance(data, dict):
        problem = Problem(name, own_line(data, 1), f"{not_mapping}, not {kind_name(data)}")
        return YamlMapping(None, [*problems, problem])
    return YamlMapping(cast(LineDict, data), problems)


def merge_problems(*lists: list[Problem]) -> list[Problem]:
    """All the problems in file order (a stable sort: equal lines keep their order)."""
    return sorted([problem for problems in lists for problem in problems], key=lambda p: p.line)


def load_yaml_text(
    text: str,
    name: str,
    not_mapping: str,
    build: Callable[[LineDict, str], tuple[Any, list[Problem]]],
    result: LoadFactory[R],
    **read_options: Any,
) -> R:
    """Parse YAML ``text`` into ``result(name, value, problems, checksum, text, data)``.

    ``build(data, checksum)`` is the kind's own parser: it returns the value (None when
    invalid) and its problems. The value is kept only when there is no problem at all.
    ``read_options`` go to :func:`read_yaml_mapping`.
    """
    digest = checksum(text)
    read = read_yaml_mapping(text, name, not_mapping, **read_options)
    if read.data is None:
        return result(name, None, read.problems, digest, text)
    value, found = build(read.data, digest)
    problems = merge_problems(read.problems, found)
    return result(
        name, value if not problems else None, problems, digest, text, to_plain(read.data)
    )

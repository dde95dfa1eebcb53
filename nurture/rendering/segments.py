"""Splitting a template source into plain text and Jinja tags kept verbatim.

The layout resolution (``nurture.rendering.layouts``) and the MJML pass
(``nurture.rendering.mjml_compile``) both work on these segments rather than on Jinja's
parse tree: the per-recipient tags must come out of the pipeline exactly as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from nurture.rendering.problems import TemplateError, TemplateProblem

_WHITESPACE_RE = re.compile(r"\s*")


@dataclass(frozen=True)
class Segment:
    """A piece of a source file: plain text, or one Jinja tag kept verbatim."""

    kind: str  # "text", "expr" ({{ }}), "stmt" ({% %}), "comment" ({# #}) or "raw"
    source: str
    path: Path
    line: int
    # For statements: the tag name ("if", "block", …) and the significant tokens after it.
    keyword: str = ""
    args: tuple[tuple[str, str], ...] = ()


# Only used to split sources into tags; it never renders, so autoescape is irrelevant.
_LEX_ENV = jinja2.Environment()  # noqa: S701
_BEGIN_KINDS = {
    "variable_begin": "expr",
    "block_begin": "stmt",
    "comment_begin": "comment",
    "raw_begin": "raw",
}
_END_TOKENS = frozenset({"variable_end", "block_end", "comment_end", "raw_end"})


def lex(source: str, path: Path) -> list[Segment]:
    """Split ``source`` into text and Jinja-tag segments that concatenate back to it.

    Jinja's lexer drops the whitespace that ``{%-`` strips, so tags are located in the
    source by position and the text between them is sliced from the source itself.
    """
    return list(_lex(source, path))


# Segments are immutable and a pure function of the text and the file it is from: a
# layout every template extends, or a template read by another library or app, is split
# once per process. A syntax error is not kept (it raises again). Bounded for the editor.
@lru_cache(maxsize=1024)
def _lex(source: str, path: Path) -> tuple[Segment, ...]:
    try:
        tokens = list(_LEX_ENV.lex(source, filename=str(path)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(TemplateProblem(path, exc.lineno, f"Jinja: {exc.message}")) from exc
    segments: list[Segment] = []
    pos = 0
    text_from = 0
    text_line = 1
    open_kind: str | None = None
    open_at = open_line = 0
    keyword = ""
    args: list[tuple[str, str]] = []
    for lineno, kind, value in tokens:
        start = pos
        if not source.startswith(value, start):
            start = _WHITESPACE_RE.match(source, pos).end()  # type: ignore[union-attr]
            if not source.startswith(value, start):
                problem = TemplateProblem(path, lineno, "could not read this Jinja tag")
                raise TemplateError(problem)
        pos = start + len(value)
        if open_kind is None and kind in _BEGIN_KINDS:
            if start > text_from:
                segments.append(Segment("text", source[text_from:start], path, text_line))
            open_kind, open_at, open_line = _BEGIN_KINDS[kind], start, lineno
            keyword, args = "", []
        elif open_kind is not None and kind in _END_TOKENS:
            segments.append(
                Segment(open_kind, source[open_at:pos], path, open_line, keyword, tuple(args))
            )
            open_kind, text_from, text_line = None, pos, lineno + value.count("\n")
        elif open_kind == "stmt" and kind != "whitespace":
            if kind == "name" and not keyword:
                keyword = value
            else:
                args.append((kind, value))
    if text_from < len(source):
        segments.append(Segment("text", source[text_from:], path, text_line))
    return tuple(segments)


def check_syntax(
    env: jinja2.Environment, source: str, path: Path, problems: list[TemplateProblem]
) -> bool:
    """Compile ``source`` with ``env``; note a syntax error, an unknown filter or an unknown
    test in ``problems`` and return False."""
    try:
        # Compiled, not only parsed: Jinja finds an unknown filter or test only when it
        # generates the code, and then still knows the line. Without a file name: the code
        # is thrown away, and the same text in any folder then shares one compile
        # (EmailSandbox's code cache).
        env.compile(source)
    except jinja2.TemplateAssertionError as exc:
        problems.append(TemplateProblem(path, exc.lineno, f"Jinja: {exc.message}"))
        return False
    except jinja2.TemplateSyntaxError as exc:
        problems.append(TemplateProblem(path, exc.lineno, f"Jinja syntax error: {exc.message}"))
        return False
    return True

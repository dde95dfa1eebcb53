"""Layout inheritance and partials, resolved on lexed segments before MJML runs.

The MJML compiler must see one whole document (a layout alone has no content, a child alone
has no ``<mjml>``), while the per-recipient tags must survive untouched until send time, so
``{% extends %}`` / ``{% block %}`` / ``{{ super() }}`` and ``{% include %}`` are resolved
here rather than by a compile-time Jinja pass, which could not tell the two kinds of tag
apart.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from nurture.rendering.problems import TemplateError, TemplateProblem
from nurture.rendering.segments import Segment, check_syntax, lex

_SUPER_RE = re.compile(r"^\{\{-?\s*super\(\)\s*-?\}\}$")


class LayoutResolver:
    """Resolves ``extends``/``block``/``super()`` and ``include`` on lexed segments."""

    _MAX_DEPTH = 10

    def __init__(
        self,
        root: Path,
        env: jinja2.Environment,
        files: dict[Path, str],
        *,
        language: str | None = None,
    ) -> None:
        self.root = root
        self.resolved_root = root.resolve()
        self.env = env
        self.files = files
        # A language variant uses a layout's or partial's own variant when there is one
        # (``_layouts/base.pl.mjml``); creating one later must invalidate the cache.
        self.language = language
        self.optional: list[Path] = []

    def resolve_top(
        self, path: Path, source: str, meta: Mapping[str, Any], meta_path: Path
    ) -> list[Segment]:
        """The template's body with its layout applied and block markers removed."""
        extra: dict[str, list[Segment]] = {}
        preheader = meta.get("preheader")
        if isinstance(preheader, str) and preheader.strip():
            # meta.yaml's preheader fills the layout's ``preheader`` block unless body.mjml
            # defines that block itself.
            line = _line_of_key(self.files.get(meta_path, ""), "preheader")
            extra["preheader"] = _relocate(lex(preheader.strip(), meta_path), line)
        segments = self._resolve(path, source, extra, depth=0)
        return [s for s in segments if not (s.kind == "stmt" and s.keyword in _BLOCK_TAGS)]

    def _resolve(
        self, path: Path, source: str, extra: Mapping[str, list[Segment]], depth: int
    ) -> list[Segment]:
        if depth > self._MAX_DEPTH:
            raise TemplateError(TemplateProblem(path, None, "layouts extend each other in a loop"))
        segments = self._inline_includes(lex(source, path), depth)
        first = next((s for s in segments if not _is_blank(s)), None)
        if first is None or not (first.kind == "stmt" and first.keyword == "extends"):
            for seg in segments:
                if seg.kind == "stmt" and seg.keyword == "extends":
                    raise TemplateError(
                        TemplateProblem(seg.path, seg.line, "{% extends %} must come first")
                    )
            return segments
        blocks = self._child_blocks(segments[segments.index(first) + 1 :])
        for name, content in extra.items():
            blocks.setdefault(name, content)
        parent_path = self._target(first, "extends")
        parent = self._resolve(parent_path, self._read(parent_path, first), {}, depth + 1)
        return self._fill(parent, blocks)

    def _inline_includes(self, segments: list[Segment], depth: int) -> list[Segment]:
        out: list[Segment] = []
        for seg in segments:
            if seg.kind == "stmt" and seg.keyword in ("import", "from", "macro", "call"):
                raise TemplateError(
                    TemplateProblem(
                        seg.path,
                        seg.line,
                        f"{{% {seg.keyword} %}} is not supported in email templates; "
                        "put shared markup in a partial and {% include %} it",
                    )
                )
            if seg.kind == "stmt" and seg.keyword == "include":
                if depth > self._MAX_DEPTH:
                    problem = TemplateProblem(seg.path, seg.line, "partials include each other")
                    raise TemplateError(problem)
                target = self._target(seg, "include")
                included = lex(self._read(target, seg), target)
                out.extend(self._inline_includes(included, depth + 1))
            else:
                out.append(seg)
        return out

    def _child_blocks(self, segments: list[Segment]) -> dict[str, list[Segment]]:
        blocks: dict[str, list[Segment]] = {}
        index = 0
        while index < len(segments):
            seg = segments[index]
            if seg.kind == "stmt" and seg.keyword == "block":
                end = _matching_endblock(segments, index)
                blocks[_block_name(seg)] = segments[index + 1 : end]
                index = end + 1
                continue
            if not _is_blank(seg):
                raise TemplateError(
                    TemplateProblem(
                        seg.path,
                        seg.line,
                        "a template that extends a layout may only contain {% block %}s; "
                        "this would be ignored",
                    )
                )
            index += 1
        return blocks

    def _fill(self, segments: list[Segment], blocks: Mapping[str, list[Segment]]) -> list[Segment]:
        """Replace the layout's blocks by the child's; block markers are kept for a
        grandchild layout and removed at the top."""
        out: list[Segment] = []
        index = 0
        while index < len(segments):
            seg = segments[index]
            if not (seg.kind == "stmt" and seg.keyword == "block"):
                out.append(seg)
                index += 1
                continue
            end = _matching_endblock(segments, index)
            default = self._fill(segments[index + 1 : end], blocks)
            name = _block_name(seg)
            content = default
            if name in blocks:
                content = []
                for piece in self._fill(blocks[name], blocks):
                    if piece.kind == "expr" and _SUPER_RE.match(piece.source.strip()):
                        content.extend(default)
                    else:
                        content.append(piece)
            out.extend([seg, *content, segments[end]])
            index = end + 1
        return out

    def _target(self, seg: Segment, what: str) -> Path:
        if len(seg.args) != 1 or seg.args[0][0] != "string":
            raise TemplateError(
                TemplateProblem(
                    seg.path, seg.line, f'{{% {what} %}} needs one quoted path, e.g. "_layouts/…"'
                )
            )
        try:
            relative = ast.literal_eval(seg.args[0][1])
        except (ValueError, SyntaxError) as exc:
            raise TemplateError(
                TemplateProblem(seg.path, seg.line, f"bad path in {{% {what} %}}")
            ) from exc
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.resolved_root):
            raise TemplateError(
                TemplateProblem(seg.path, seg.line, f"{relative!r} is outside the templates folder")
            )
        # Keep the path as written under the root so problems and hashes use readable names.
        path = self.root / target.relative_to(self.resolved_root)
        if self.language is not None:
            stem, dot, suffix = path.name.partition(".")
            variant = path.with_name(f"{stem}.{self.language}{dot}{suffix}")
            if variant.is_file():
                return variant
            self.optional.append(variant)
        return path

    def _read(self, path: Path, used_by: Segment) -> str:
        if path in self.files:
            return self.files[path]
        if not path.is_file():
            raise TemplateError(
                TemplateProblem(used_by.path, used_by.line, f"{path.name} not found: {path}")
            )
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(TemplateProblem(path, None, "not UTF-8 text")) from exc
        problems: list[TemplateProblem] = []
        if not check_syntax(self.env, content, path, problems):
            raise TemplateError(problems[0])
        self.files[path] = content
        return content


_BLOCK_TAGS = frozenset({"block", "endblock"})


def _is_blank(seg: Segment) -> bool:
    return seg.kind == "comment" or (seg.kind == "text" and not seg.source.strip())


def _block_name(seg: Segment) -> str:
    if not seg.args or seg.args[0][0] != "name":
        raise TemplateError(TemplateProblem(seg.path, seg.line, "{% block %} needs a name"))
    return seg.args[0][1]


def _matching_endblock(segments: list[Segment], start: int) -> int:
    depth = 0
    for index in range(start, len(segments)):
        seg = segments[index]
        if seg.kind == "stmt" and seg.keyword == "block":
            depth += 1
        elif seg.kind == "stmt" and seg.keyword == "endblock":
            depth -= 1
            if depth == 0:
                return index
    opening = segments[start]
    raise TemplateError(TemplateProblem(opening.path, opening.line, "{% block %} is never closed"))


def _line_of_key(yaml_source: str, key: str) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", yaml_source, re.M)
    return yaml_source.count("\n", 0, match.start()) + 1 if match else 1


def _relocate(segments: list[Segment], line: int) -> list[Segment]:
    return [
        Segment(s.kind, s.source, s.path, s.line + line - 1, s.keyword, s.args) for s in segments
    ]

"""Compiling one version of an email template: layouts, MJML, and the plain-text part.

This is the slow path (milliseconds), run once per template version; ``nurture.rendering.library``
caches its result. What comes out is three ordinary Jinja templates (subject, HTML, text)
that render per recipient in microseconds.

The pipeline, and why it has this shape:

1. Every source file is split into text and Jinja tags (``lex``). Layout inheritance
   (``{% extends %}`` / ``{% block %}`` / ``{{ super() }}``) and ``{% include %}`` are resolved
   here, on those pieces, *before* MJML runs: the MJML compiler must see one whole document
   (a layout alone has no content, a child alone has no ``<mjml>``), while the per-recipient
   tags (``{{ lead.first_name }}``, ``{% if account %}``) must survive untouched until send
   time. Resolving inheritance ourselves does both; a compile-time Jinja pass could not tell
   the two kinds of tag apart.
2. Each remaining Jinja tag is replaced by an opaque placeholder, so the MJML compiler (an
   HTML parser underneath) never sees quotes, ``<`` or ``%`` inside an expression, and an
   expression in ``href="{{ … }}"`` comes out exactly as it went in. A tag that stands between
   MJML elements (e.g. ``{% if account %}`` between two ``<mj-section>``) is wrapped in
   ``<mj-raw>``: the compiler drops bare text there, but keeps ``mj-raw`` where it stands.
3. MJML compiles the document; every placeholder must come out exactly once (statements) or
   at least once (expressions), otherwise the template is reported as broken.
4. The plain-text part, when there is no ``body.txt``, is derived from this compiled HTML by
   html2text *with the placeholders still in it*, so the text part is itself a Jinja template
   and html2text runs once per version, not once per recipient.
5. Placeholders are put back; the three sources are compiled by a sandboxed Jinja.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import html2text
import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from mjml import mjml_to_html

from nurture.rendering.context import CONTEXT_TYPES

# Part of every template version: bump it when a change here changes compiled output, so
# caches and stored versions never mix old and new output.
PIPELINE_VERSION = "1"
_TOOL_VERSIONS = f"mjml={package_version('mjml')};html2text={package_version('html2text')}"

SUBJECT_FILE = "subject.txt"
BODY_FILE = "body.mjml"
TEXT_FILE = "body.txt"
META_FILE = "meta.yaml"

# A placeholder is plain letters and digits: HTML parsers, MJML and html2text leave it alone.
_PLACEHOLDER = "JJX{}XJJ"
_PLACEHOLDER_RE = re.compile(r"JJX(\d+)XJJ")
_PLACEHOLDER_MARK = "JJX"

# MJML elements whose children are MJML elements: a Jinja tag directly inside one of them
# would be dropped by the compiler, so it is wrapped in <mj-raw>.
_CONTAINERS = frozenset({"mj-body", "mj-wrapper", "mj-section", "mj-group", "mj-column"})
# MJML elements whose content is HTML or text, passed through: Jinja may stand there as is.
_CONTENT_ELEMENTS = frozenset(
    {
        "mj-text",
        "mj-button",
        "mj-raw",
        "mj-table",
        "mj-title",
        "mj-preview",
        "mj-style",
        "mj-navbar-link",
        "mj-social-element",
        "mj-accordion-title",
        "mj-accordion-text",
    }
)
# One token of the placeholder-bearing document: an HTML comment, a tag, or a placeholder.
_MARKUP_RE = re.compile(
    r"<!--.*?-->"
    r"|<(?P<close>/?)(?P<tag>[A-Za-z][\w:.-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    r"|JJX(?P<ph>\d+)XJJ",
    re.S,
)
_QUOTED_RE = re.compile(r"\"[^\"]*\"|'[^']*'")
_PREVIEW_DIV_RE = re.compile(r"<div style=\"display:none;font-size:1px;[^\"]*\">.*?</div>", re.S)
_MD_LINK_RE = re.compile(r"\[\s*([^\]]*?)\s*\]\(\s*(\S+?)\s*\)")
_MD_HEADING_RE = re.compile(r"^#{1,6} ", re.M)
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_PRE_RE = re.compile(r"<pre\b|<textarea\b|white-space\s*:\s*pre", re.I)
_SUPER_RE = re.compile(r"^\{\{-?\s*super\(\)\s*-?\}\}$")
_WHITESPACE_RE = re.compile(r"\s*")
_TEMPLATE_FILENAME = "<template>"


# ---------------------------------------------------------------- problems


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


# ---------------------------------------------------------------- Jinja environments


def _finalize(value: Any) -> Any:
    # ``{{ lead.title }}`` for a lead without a title must print nothing, never "None".
    return "" if value is None else value


# The fields of the context's view objects (LeadView, …): frozen dataclasses of plain data.
_VIEW_FIELDS = {view: frozenset(view.__dataclass_fields__) for view in CONTEXT_TYPES}


class EmailSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a fast path for the context's own view objects.

    The sandbox vets every attribute access (about 1 µs each, most of a render). Reading a
    declared field of a LeadView, AccountView, … is always safe: they are frozen dataclasses
    of plain values that we built. Anything else, including calling a method on a field's
    value (``lead.attributes.clear()``), still goes through the full checks.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        fields = _VIEW_FIELDS.get(type(obj))
        if fields is not None and attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


def make_environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    """The (HTML, text) Jinja environments every template is compiled with.

    Both are immutable sandboxes (templates will be edited by marketers in a web app) with
    StrictUndefined (a typo fails validation, not a send). Only the HTML one autoescapes: the
    subject and the text part are not HTML. Only the text one trims the line a lone
    ``{% … %}`` stands on: in plain text that line would show as a blank line, while in HTML
    whitespace means nothing, and trimming the newline after ``{% endif %}`` could glue two
    words together.
    """
    html = EmailSandbox(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize)
    text = EmailSandbox(
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return html, text


# ---------------------------------------------------------------- lexing


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
    return segments


# ---------------------------------------------------------------- sources and layouts


@dataclass
class TemplateSources:
    """Everything one template version is made of, read and resolved (cheap: no MJML)."""

    name: str
    folder: Path
    # Every file read, in the order read: the version hash and the freshness check use it.
    files: dict[Path, str]
    # Files the template would use if they existed (body.txt, meta.yaml): adding one must
    # invalidate the cached version.
    optional_files: tuple[Path, ...]
    subject: str
    body: list[Segment]
    text: str | None
    meta: dict[str, Any]
    version: str = ""


def read_sources(root: Path, name: str, html_env: jinja2.Environment) -> TemplateSources:
    """Read template ``name`` and everything it uses; resolve its layout and partials.

    Raises TemplateError listing every syntax problem found in the template's own files.
    """
    folder = root / name
    files: dict[Path, str] = {}
    problems: list[TemplateProblem] = []

    def read(path: Path, *, required: bool) -> str | None:
        if not path.is_file():
            if required:
                problems.append(TemplateProblem(path, None, "file is missing"))
            return None
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(TemplateProblem(path, None, f"not UTF-8 text ({exc.reason})"))
            return None
        files[path] = content
        return content

    subject = read(folder / SUBJECT_FILE, required=True)
    body = read(folder / BODY_FILE, required=True)
    text = read(folder / TEXT_FILE, required=False)
    meta_source = read(folder / META_FILE, required=False)
    meta = _parse_meta(folder / META_FILE, meta_source, problems)

    if subject is not None:
        _check_syntax(html_env, subject, folder / SUBJECT_FILE, problems)
        if len([line for line in subject.splitlines() if line.strip()]) > 1:
            problems.append(
                TemplateProblem(folder / SUBJECT_FILE, 2, "the subject must be a single line")
            )
    if text is not None:
        _check_syntax(html_env, text, folder / TEXT_FILE, problems)
    if body is not None:
        _check_syntax(html_env, body, folder / BODY_FILE, problems)
    if problems:
        raise TemplateError(problems[0], tuple(problems[1:]))
    assert subject is not None and body is not None

    resolver = _LayoutResolver(root, html_env, files)
    segments = resolver.resolve_top(folder / BODY_FILE, body, meta, folder / META_FILE)
    sources = TemplateSources(
        name=name,
        folder=folder,
        files=files,
        optional_files=(folder / TEXT_FILE, folder / META_FILE),
        subject=subject.strip(),
        body=segments,
        text=text,
        meta=meta,
    )
    sources.version = _version_of(root, files)
    return sources


def _version_of(root: Path, files: Mapping[Path, str]) -> str:
    digest = hashlib.sha256(f"{PIPELINE_VERSION};{_TOOL_VERSIONS}\0".encode())
    for path in sorted(files, key=lambda p: p.as_posix()):
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        digest.update(relative.encode() + b"\0" + files[path].encode() + b"\0")
    return digest.hexdigest()


def _check_syntax(
    env: jinja2.Environment, source: str, path: Path, problems: list[TemplateProblem]
) -> bool:
    try:
        env.parse(source, filename=str(path))
    except jinja2.TemplateSyntaxError as exc:
        problems.append(TemplateProblem(path, exc.lineno, f"Jinja syntax error: {exc.message}"))
        return False
    return True


def _parse_meta(path: Path, source: str | None, problems: list[TemplateProblem]) -> dict[str, Any]:
    if source is None:
        return {}
    try:
        meta = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problems.append(TemplateProblem(path, line, f"invalid YAML: {exc.problem}"))
        return {}
    except yaml.YAMLError as exc:
        problems.append(TemplateProblem(path, None, f"invalid YAML: {exc}"))
        return {}
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        problems.append(TemplateProblem(path, 1, "meta.yaml must be a mapping (key: value)"))
        return {}
    for key in ("preheader", "description"):
        if key in meta and not isinstance(meta[key], str):
            problems.append(TemplateProblem(path, None, f"{key} must be text"))
    return meta


class _LayoutResolver:
    """Resolves ``extends``/``block``/``super()`` and ``include`` on lexed segments."""

    _MAX_DEPTH = 10

    def __init__(self, root: Path, env: jinja2.Environment, files: dict[Path, str]) -> None:
        self.root = root
        self.resolved_root = root.resolve()
        self.env = env
        self.files = files

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
        return self.root / target.relative_to(self.resolved_root)

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
        if not _check_syntax(self.env, content, path, problems):
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


# ---------------------------------------------------------------- MJML


@dataclass(frozen=True)
class SourceSpan:
    """Lines ``first``–``last`` of a compiled source came from ``segment``."""

    first: int
    last: int
    segment: Segment


@dataclass(frozen=True)
class CompiledSources:
    """The output of the slow path, before Jinja compiles it."""

    html: str
    html_spans: tuple[SourceSpan, ...]
    text: str
    # None when the text part was written by hand (body.txt): its lines are its own.
    text_spans: tuple[SourceSpan, ...] | None


def compile_sources(sources: TemplateSources, root: Path) -> CompiledSources:
    """Run MJML over the resolved body and derive the text part (see the module docstring)."""
    body_path = sources.folder / BODY_FILE
    table: list[Segment] = []
    pieces: list[str] = []
    for seg in sources.body:
        if seg.kind == "text":
            if _PLACEHOLDER_MARK in seg.source:
                raise TemplateError(
                    TemplateProblem(seg.path, seg.line, f"{_PLACEHOLDER_MARK!r} is reserved")
                )
            pieces.append(seg.source)
        elif seg.kind != "comment":  # Jinja comments render as nothing: drop them now.
            pieces.append(_PLACEHOLDER.format(len(table)))
            table.append(seg)
    document = _wrap_in_mj_raw("".join(pieces), table)
    try:
        result = mjml_to_html(document, template_dir=str(root), keep_comments=False)
    except Exception as exc:  # the port raises plain ValueError/TypeError on bad input
        message = f"MJML could not compile the email: {exc or type(exc).__name__}"
        raise TemplateError(TemplateProblem(body_path, None, message)) from exc
    if result.errors:
        raise TemplateError(TemplateProblem(body_path, None, f"MJML: {result.errors[0]}"))
    html = result.html
    _check_placeholders(html, table)
    if not _PRE_RE.search(html):
        # MJML indents generously; outside <pre> leading whitespace means nothing to a mail
        # client, and dropping it makes every message a third smaller.
        html = "\n".join(line for line in (raw.strip() for raw in html.splitlines()) if line)
    html_source, html_spans = _restore(html, table)
    if sources.text is not None:
        return CompiledSources(html_source, html_spans, sources.text, None)
    text_source, text_spans = _restore(derive_text(html, table), table, keep_newlines=True)
    return CompiledSources(html_source, html_spans, text_source, text_spans)


def _wrap_in_mj_raw(document: str, table: list[Segment]) -> str:
    """Wrap placeholders that stand directly inside MJML containers in ``<mj-raw>``."""
    out: list[str] = []
    stack: list[str] = []
    last = 0
    for match in _MARKUP_RE.finditer(document):
        if match.group("tag"):
            tag = match.group("tag").lower()
            attrs = match.group("attrs")
            unquoted = _QUOTED_RE.sub("", attrs)
            found = _PLACEHOLDER_RE.search(unquoted)
            if found:
                seg = table[int(found.group(1))]
                raise TemplateError(
                    TemplateProblem(
                        seg.path,
                        seg.line,
                        f"{seg.source.strip()} sits inside the <{tag}> tag itself: Jinja may "
                        'only appear in a quoted attribute value there (href="{{ … }}")',
                    )
                )
            if tag == "mjml" or tag.startswith("mj-"):
                if match.group("close"):
                    if tag in stack:
                        del stack[len(stack) - 1 - stack[::-1].index(tag) :]
                elif not attrs.rstrip().endswith("/"):
                    stack.append(tag)
            continue
        if match.group("ph") is None:
            continue  # an HTML comment
        seg = table[int(match.group("ph"))]
        parent = stack[-1] if stack else None
        if parent in _CONTENT_ELEMENTS:
            continue
        if parent in _CONTAINERS:
            out.append(document[last : match.start()])
            out.append(f"<mj-raw>{match.group(0)}</mj-raw>")
            last = match.end()
            continue
        where = f"directly inside <{parent}>" if parent else "outside <mjml>"
        raise TemplateError(
            TemplateProblem(
                seg.path,
                seg.line,
                f"{seg.source.strip()} stands {where}, where MJML would drop it; put it inside "
                "an element such as <mj-text>, or around whole sections or columns",
            )
        )
    out.append(document[last:])
    return "".join(out)


def _check_placeholders(html: str, table: list[Segment]) -> None:
    counts = Counter(int(found) for found in _PLACEHOLDER_RE.findall(html))
    for index, seg in enumerate(table):
        count = counts.get(index, 0)
        if count == 0:
            raise TemplateError(
                TemplateProblem(
                    seg.path,
                    seg.line,
                    f"MJML dropped {seg.source.strip()}; move it inside an element "
                    "such as <mj-text>",
                )
            )
        if count > 1 and seg.kind != "expr":
            raise TemplateError(
                TemplateProblem(
                    seg.path,
                    seg.line,
                    f"MJML copies this element's content, so {seg.source.strip()} would run "
                    f"{count} times; only {{{{ … }}}} expressions may stand here",
                )
            )


def _restore(
    text: str, table: list[Segment], *, keep_newlines: bool = False
) -> tuple[str, tuple[SourceSpan, ...]]:
    """Put the Jinja tags back, noting which compiled lines each one occupies.

    With ``keep_newlines`` (the text part, rendered with trim_blocks), a ``{% … %}`` that
    ends a line holding other text gets ``+%}``, so it keeps that line's newline: only a tag
    alone on its line should vanish with it.
    """
    out: list[str] = []
    spans: list[SourceSpan] = []
    line = 1
    parts = _PLACEHOLDER_RE.split(text)
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(part)
            line += part.count("\n")
            continue
        seg = table[int(part)]
        source = seg.source
        if keep_newlines and seg.kind == "stmt" and parts[index + 1].startswith("\n"):
            before = "".join(out).rpartition("\n")[2]
            if _PLACEHOLDER_RE.sub("", before).strip() and not source.endswith(("-%}", "+%}")):
                source = source[:-2] + "+%}"
        extra = source.count("\n")
        spans.append(SourceSpan(line, line + extra, seg))
        out.append(source)
        line += extra
    return "".join(out), tuple(spans)


def derive_text(html: str, table: list[Segment]) -> str:
    """The plain-text part of ``html`` (which still holds placeholders), as Jinja source."""
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True  # the open pixel and decoration have no text
    converter.ignore_tables = True  # MJML's layout tables are not data tables
    converter.ignore_emphasis = True  # "**" and "_" read as noise in a plain-text email
    converter.unicode_snob = True  # keep "–" and "é" instead of ASCII look-alikes
    # The preheader is hidden in HTML; in text it would repeat the first sentence.
    markdown = converter.handle(_PREVIEW_DIV_RE.sub("", html))
    markdown = _MD_LINK_RE.sub(_plain_link, markdown)
    # Headings become plain lines ("## Title" is Markdown); html2text also escapes Markdown
    # syntax ("1\\.", "\\-", "\\\\"); a text email is not Markdown.
    markdown = _MD_HEADING_RE.sub("", markdown)
    markdown = _MD_ESCAPE_RE.sub(r"\1", markdown)
    lines = [line.rstrip() for line in markdown.split("\n")]
    paragraphs = [p.strip("\n") for p in "\n".join(lines).split("\n\n") if p.strip()]
    # A paragraph holding only {% … %} tags (an {% if %} around whole sections) is joined to
    # the next one, so the blank lines around it do not double when the tags render as
    # nothing (trim_blocks removes a line that holds only a tag).
    merged: list[str] = []
    pending: list[str] = []
    for paragraph in paragraphs:
        found = _PLACEHOLDER_RE.findall(paragraph)
        only_tags = found and not _PLACEHOLDER_RE.sub("", paragraph).strip()
        if only_tags and all(table[int(i)].kind == "stmt" for i in found):
            pending.extend(_PLACEHOLDER.format(i) for i in found)
            continue
        merged.append("\n".join([*pending, paragraph]))
        pending = []
    if pending:
        if merged:
            merged[-1] = "\n".join([merged[-1], *pending])
        else:
            merged.append("\n".join(pending))
    return "\n\n".join(merged) + "\n"


def _plain_link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if not label or label == url:
        return url
    return f"{label} ({url})"


# ---------------------------------------------------------------- the compiled template


@dataclass(frozen=True)
class RenderedEmail:
    """One recipient's email: what the sender turns into a MIME message."""

    template: str
    version: str
    subject: str
    html: str
    text: str
    # The HTML as the pieces Jinja produced (template constants and values). The MIME
    # builder encodes the constant pieces once per template instead of once per message.
    html_parts: tuple[str, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class CompiledTemplate:
    """One template version, compiled: render it per recipient with ``render``."""

    name: str
    version: str
    folder: Path
    files: tuple[Path, ...]
    meta: Mapping[str, Any]
    subject_source: str
    html_source: str
    text_source: str
    # True when the text part was derived from the HTML (no body.txt).
    text_derived: bool
    _subject: jinja2.Template = field(repr=False)
    _html: jinja2.Template = field(repr=False)
    _text: jinja2.Template = field(repr=False)
    _html_spans: tuple[SourceSpan, ...] = field(repr=False)
    _text_spans: tuple[SourceSpan, ...] | None = field(repr=False)

    def render(self, context: Mapping[str, Any]) -> RenderedEmail:
        """Render subject, HTML and text for one recipient.

        Raises TemplateError (with the source file and line) when the context does not fit
        the template, e.g. an undefined variable.
        """
        part = "subject"
        try:
            # A subject is one header line whatever the data says (no CR/LF injection).
            subject = " ".join(self._subject.render(context).split())
            part = "html"
            html_parts = tuple(self._html.generate(context))
            part = "text"
            text = self._text.render(context)
        except TemplateError:
            raise
        except Exception as exc:
            raise TemplateError(self.explain(exc, part)) from exc
        return RenderedEmail(
            template=self.name,
            version=self.version,
            subject=subject,
            html="".join(html_parts),
            text=text,
            html_parts=html_parts,
        )

    def explain(self, exc: BaseException, part: str) -> TemplateProblem:
        """Turn an error raised while rendering ``part`` into a problem at its source line."""
        line = _template_line(exc)
        if part == "subject":
            return TemplateProblem(self.folder / SUBJECT_FILE, line, _describe(exc, None))
        spans = self._html_spans if part == "html" else self._text_spans
        if spans is None:
            return TemplateProblem(self.folder / TEXT_FILE, line, _describe(exc, None))
        seg_line, seg = _locate(spans, line, exc)
        if seg is None:
            return TemplateProblem(self.folder / BODY_FILE, None, _describe(exc, None))
        return TemplateProblem(seg.path, seg_line, _describe(exc, seg))


def build_compiled(
    sources: TemplateSources,
    compiled: CompiledSources,
    html_env: jinja2.Environment,
    text_env: jinja2.Environment,
) -> CompiledTemplate:
    """Compile the three Jinja sources of one version."""
    body_path = sources.folder / BODY_FILE

    def jinja(env: jinja2.Environment, source: str, path: Path) -> jinja2.Template:
        try:
            return env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            # The sources passed their own syntax check, so this is the pipeline's fault.
            message = f"compiled template is not valid Jinja ({exc.message}); please report"
            raise TemplateError(TemplateProblem(path, None, message)) from exc

    text_path = body_path if sources.text is None else sources.folder / TEXT_FILE
    return CompiledTemplate(
        name=sources.name,
        version=sources.version,
        folder=sources.folder,
        files=tuple(sources.files),
        meta=dict(sources.meta),
        subject_source=sources.subject,
        html_source=compiled.html,
        text_source=compiled.text,
        text_derived=sources.text is None,
        _subject=jinja(text_env, sources.subject, sources.folder / SUBJECT_FILE),
        _html=jinja(html_env, compiled.html, body_path),
        _text=jinja(text_env, compiled.text, text_path),
        _html_spans=compiled.html_spans,
        _text_spans=compiled.text_spans,
    )


# ---------------------------------------------------------------- explaining render errors


def _template_line(exc: BaseException) -> int | None:
    """The template line Jinja's rewritten traceback points at, if any."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _locate(
    spans: tuple[SourceSpan, ...], line: int | None, exc: BaseException
) -> tuple[int | None, Segment | None]:
    if line is None:
        return None, None
    candidates = [span for span in spans if span.first <= line <= span.last]
    if not candidates:
        return None, None
    attribute = _missing_name(str(exc))
    chosen = candidates[0]
    if attribute:
        for span in candidates:
            if re.search(rf"\b{re.escape(attribute)}\b", span.segment.source):
                chosen = span
                break
    return chosen.segment.line + (line - chosen.first), chosen.segment


_NO_ATTRIBUTE_RE = re.compile(r"^'(?P<owner>[^']+)' has no attribute '(?P<name>[^']+)'$")
_UNDEFINED_RE = re.compile(r"^'(?P<name>[^']+)' is undefined$")


def _missing_name(message: str) -> str | None:
    match = _NO_ATTRIBUTE_RE.match(message) or _UNDEFINED_RE.match(message)
    return match.group("name") if match else None


def _describe(exc: BaseException, seg: Segment | None) -> str:
    """A message a marketer can act on, e.g. ``{{ lead.frist_name }}: lead has no field
    'frist_name' (did you mean 'first_name'?)``."""
    where = f"{seg.source.strip()}: " if seg else ""
    message = str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        if match := _NO_ATTRIBUTE_RE.match(message):
            owner, name = match.group("owner"), match.group("name")
            if owner == "None":
                return (
                    f"{where}undefined: a value here is empty (None), e.g. `account` for a lead "
                    f"without an account, so it has no {name!r}; guard it with {{% if … %}}"
                )
            for view, variable in CONTEXT_TYPES.items():
                if owner.endswith(f".{view.__name__} object"):
                    known = list(view.__dataclass_fields__)
                    hint = get_close_matches(name, known, n=1)
                    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                    return (
                        f"{where}undefined: {variable} has no field {name!r}{suggestion}; "
                        f"its fields are {', '.join(known)}"
                    )
            if owner == "dict object":
                return (
                    f"{where}undefined: no {name!r} in these attributes; custom attributes "
                    "vary per lead, so give a fallback, e.g. `lead.attributes.get("
                    f"{name!r}, '…')`"
                )
            return f"{where}undefined: {message}"
        if match := _UNDEFINED_RE.match(message):
            return f"{where}undefined variable {match.group('name')!r}"
        return f"{where}undefined: {message}"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"{where}not allowed in a template: {message}"
    return f"{where}{type(exc).__name__}: {message}"

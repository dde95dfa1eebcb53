"""Compiling the resolved body with MJML, Jinja tags standing as placeholders.

Each remaining Jinja tag is replaced by a placeholder (``nurture.rendering.placeholders``),
so the MJML compiler never sees quotes, ``<`` or ``%`` inside an expression. A tag that
stands between MJML elements (e.g. ``{% if account %}`` between two ``<mj-section>``) is
wrapped in ``<mj-raw>``: the compiler drops bare text there, but keeps ``mj-raw`` where it
stands. Every placeholder must come out of MJML exactly once (statements) or at least once
(expressions), otherwise the template is reported as broken. Without a ``body.txt``, the text
part is derived from the compiled HTML with the placeholders still in it
(``nurture.rendering.text_part``).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mjml import mjml_to_html

from nurture.rendering.mjml_check import (
    CONTENT_ELEMENTS,
    CheckedDocument,
    check_document,
    origins_of,
)
from nurture.rendering.placeholders import (
    PLACEHOLDER,
    PLACEHOLDER_MARK,
    PLACEHOLDER_RE,
    SourceSpan,
    restore,
)
from nurture.rendering.problems import TemplateError, TemplateProblem
from nurture.rendering.segments import Segment
from nurture.rendering.sources import BODY_FILE, TemplateSources
from nurture.rendering.text_part import derive_text

# MJML elements whose children are MJML elements: a Jinja tag directly inside one of them
# would be dropped by the compiler, so it is wrapped in <mj-raw>.
_CONTAINERS = frozenset({"mj-body", "mj-wrapper", "mj-section", "mj-group", "mj-column"})
# One token of the placeholder-bearing document: an HTML comment, a tag, or a placeholder.
_MARKUP_RE = re.compile(
    r"<!--.*?-->"
    r"|<(?P<close>/?)(?P<tag>[A-Za-z][\w:.-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    r"|JJX(?P<ph>\d+)XJJ",
    re.S,
)
_QUOTED_RE = re.compile(r"\"[^\"]*\"|'[^']*'")
_INCLUDE_RE = re.compile(r"<mj-include\b", re.I)
_PRE_RE = re.compile(r"<pre\b|<textarea\b|white-space\s*:\s*pre", re.I)


@dataclass(frozen=True)
class CompiledSources:
    """The output of the slow path, before Jinja compiles it."""

    html: str
    html_spans: tuple[SourceSpan, ...]
    text: str
    # None when the text part was written by hand (body.txt): its lines are its own.
    text_spans: tuple[SourceSpan, ...] | None


@dataclass(frozen=True)
class PreparedDocument:
    """The resolved body as the compiler gets it: checked, Jinja tags as placeholders."""

    document: str
    # The Jinja tag each placeholder stands for, by number.
    table: tuple[Segment, ...]
    checked: CheckedDocument


def prepare_document(sources: TemplateSources) -> PreparedDocument:
    """The document to compile, checked (``nurture.rendering.mjml_check``); raises
    TemplateError listing every problem, each at its template file and line."""
    table: list[Segment] = []
    pieces: list[tuple[str, Segment]] = []
    for seg in sources.body:
        if seg.kind == "text":
            if PLACEHOLDER_MARK in seg.source:
                raise TemplateError(
                    TemplateProblem(seg.path, seg.line, f"{PLACEHOLDER_MARK!r} is reserved")
                )
            pieces.append((seg.source, seg))
        elif seg.kind != "comment":  # Jinja comments render as nothing: drop them now.
            pieces.append((PLACEHOLDER.format(len(table)), seg))
            table.append(seg)
    checked, problems = check_document(*origins_of(pieces))
    if problems:
        raise TemplateError(problems[0], tuple(problems[1:]))
    return PreparedDocument(_wrap_in_mj_raw(checked.document, table), tuple(table), checked)


def compile_sources(sources: TemplateSources, root: Path) -> CompiledSources:
    """Run MJML over the resolved body and derive the text part (see the module docstring)."""
    body_path = sources.folder / BODY_FILE
    prepared = prepare_document(sources)
    document, table, checked = prepared.document, list(prepared.table), prepared.checked
    try:
        html, errors = _mjml(document, str(root))
    except ImportError as exc:
        # The compiler names a pip command of its own source tree; css-inline is a
        # dependency of Nurture, so only a broken installation gets here.
        message = (
            'MJML could not inline the CSS of <mj-style inline="inline">: the css-inline '
            "package is missing; reinstall Nurture (pip install -e .), which depends on "
            "mjml[css_inlining]"
        )
        raise TemplateError(TemplateProblem(body_path, None, message)) from exc
    except Exception as exc:  # the port raises plain ValueError/TypeError on bad input
        message = f"MJML could not compile the email: {exc or type(exc).__name__}"
        raise TemplateError(TemplateProblem(body_path, None, message)) from exc
    if errors:
        raise TemplateError(TemplateProblem(body_path, None, f"MJML: {errors[0]}"))
    html = checked.finish(html)
    check_placeholders(html, table)
    if not _PRE_RE.search(html):
        # MJML indents generously; outside <pre> leading whitespace means nothing to a mail
        # client, and dropping it makes every message a third smaller.
        html = "\n".join(line for line in (raw.strip() for raw in html.splitlines()) if line)
    html_source, html_spans = restore(html, table)
    if sources.text is not None:
        return CompiledSources(html_source, html_spans, sources.text, None)
    text_source, text_spans = restore(derive_text(html, table), table, keep_newlines=True)
    return CompiledSources(html_source, html_spans, text_source, text_spans)


def _mjml(document: str, template_dir: str) -> tuple[str, tuple[str, ...]]:
    """MJML's (html, errors) for ``document``.

    The compiler is the slowest step of a compile (milliseconds). Without ``<mj-include>``
    its output is a pure function of the document's text, so that text compiles once per
    process, whichever library, template folder, worker sync or app reload asks, and an
    edited template is a new text. A document that includes a file depends on that file's
    content too, which the text does not show: it is compiled every time. So is every
    document while the CSS inliner cannot be imported (``sys.modules`` holds None for it): a
    broken installation must be reported, not hidden by a compile made before it broke.
    """
    if _INCLUDE_RE.search(document) or sys.modules.get("css_inline", True) is None:
        return _run_mjml(document, template_dir)
    return _mjml_of_text(document)


# Bounded: an editor saving many versions must not grow the process forever.
@lru_cache(maxsize=512)
def _mjml_of_text(document: str) -> tuple[str, tuple[str, ...]]:
    return _run_mjml(document, None)


def _run_mjml(document: str, template_dir: str | None) -> tuple[str, tuple[str, ...]]:
    result = mjml_to_html(document, template_dir=template_dir, keep_comments=False)
    return result.html, tuple(str(error) for error in result.errors)


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
            found = PLACEHOLDER_RE.search(unquoted)
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
        if parent in CONTENT_ELEMENTS:
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


def check_placeholders(html: str, table: list[Segment]) -> None:
    """Raise TemplateError when the compiler dropped a Jinja tag, or copied a statement."""
    counts = Counter(int(found) for found in PLACEHOLDER_RE.findall(html))
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

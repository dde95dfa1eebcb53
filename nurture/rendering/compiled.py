"""The compiled template: three Jinja templates rendered per recipient, and the errors
they raise explained at their source line."""

from __future__ import annotations

import logging
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import jinja2

from nurture.rendering.budget import (
    RenderLimitExceeded,
    RenderLimits,
    check_output,
    start_metering,
    stop_metering,
)
from nurture.rendering.context import CONTEXT_TYPES
from nurture.rendering.environment import EmailSandbox
from nurture.rendering.formatting import VARIANT_KEY, FormatError
from nurture.rendering.merge_tags import hint_for
from nurture.rendering.mjml_compile import CompiledSources
from nurture.rendering.placeholders import SourceSpan
from nurture.rendering.problems import TemplateError, TemplateProblem
from nurture.rendering.segments import Segment
from nurture.rendering.sources import BODY_FILE, SUBJECT_FILE, TEXT_FILE, TemplateSources
from nurture.rendering.specialise import specialise

log = logging.getLogger(__name__)

# The file name Jinja gives a template compiled from a string, as its tracebacks show it.
_TEMPLATE_FILENAME = "<template>"


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
    # What one render may do (nurture.rendering.budget).
    limits: RenderLimits
    _subject: jinja2.Template = field(repr=False)
    _html: jinja2.Template = field(repr=False)
    _text: jinja2.Template = field(repr=False)
    _html_spans: tuple[SourceSpan, ...] = field(repr=False)
    _text_spans: tuple[SourceSpan, ...] | None = field(repr=False)
    # The language variant (None: the default files) and the files its parts come from.
    language: str | None = None
    subject_path: Path | None = None
    body_path: Path | None = None
    text_path: Path | None = None
    # A variant made by ``for_sender``: the values folded into it, and the template it was
    # made from (which renders any context whose values differ).
    folded: Mapping[str, Any] | None = field(default=None, repr=False)
    generic: CompiledTemplate | None = field(default=None, repr=False)
    _variants: dict[Any, CompiledTemplate] = field(default_factory=dict, repr=False)
    # Each template's globals (its own over the environment's) as one dict, merged once:
    # Jinja keeps them as a ChainMap, which its context would iterate in Python twice per
    # render. The environments' globals are set when they are made and never change.
    _globals: tuple[dict[str, Any], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        merged = tuple(_merged_globals(t) for t in (self._subject, self._html, self._text))
        object.__setattr__(self, "_globals", merged)

    def for_sender(self, sender: Any) -> CompiledTemplate:
        """This template with ``sender``'s values (a ``SenderView``) folded into its text
        (``nurture.rendering.specialise``): it renders the same text faster for a context
        whose ``sender`` is ``sender``, and renders any other context as this one does."""
        if self.generic is not None:
            return self.generic.for_sender(sender)
        variant = self._variants.get(sender)
        if variant is None:
            variant = self._specialised({"sender": sender})
            if len(self._variants) >= 16:
                self._variants.clear()  # a brand edited again and again
            self._variants[sender] = variant
        return variant

    def _specialised(self, constants: Mapping[str, Any]) -> CompiledTemplate:
        try:
            subject = specialise(self._subject.environment, self.subject_source, constants)
            html = specialise(self._html.environment, self.html_source, constants)
            text = specialise(self._text.environment, self.text_source, constants)
        except Exception:
            # Specialising only saves time: a template it cannot handle renders as it is.
            log.warning("template %s could not be specialised", self.name, exc_info=True)
            return self
        if subject is None and html is None and text is None:
            return self
        return replace(
            self,
            _subject=subject or self._subject,
            _html=html or self._html,
            _text=text or self._text,
            folded=dict(constants),
            generic=self,
            _variants={},
        )

    def render(self, context: Mapping[str, Any]) -> RenderedEmail:
        """Render subject, HTML and text for one recipient.

        Raises TemplateError (with the source file and line) when the context does not fit
        the template, e.g. an undefined variable, or when the render goes over its limits
        (``self.limits``: characters, steps, processor time).
        """
        if self.folded is not None and self.generic is not None:
            for name, value in self.folded.items():
                given = context.get(name)
                if given is not value and given != value:
                    return self.generic.render(context)
        part = "subject"
        variables = dict(context)
        # The formatting filters fall back to the variant's language (``formatting``).
        variables[VARIANT_KEY] = self.language
        metering = start_metering(self.limits)
        try:
            subject_globals, html_globals, text_globals = self._globals
            subject_parts = _pieces(self._subject, subject_globals, variables, self.limits)
            part = "html"
            html_parts = _pieces(self._html, html_globals, variables, self.limits)
            part = "text"
            text_parts = _pieces(self._text, text_globals, variables, self.limits)
        except TemplateError:
            raise
        except Exception as exc:
            raise TemplateError(self.explain(exc, part)) from exc
        finally:
            stop_metering(metering)
        return RenderedEmail(
            template=self.name,
            version=self.version,
            # A subject is one header line whatever the data says (no CR/LF injection).
            subject=" ".join("".join(subject_parts).split()),
            html="".join(html_parts),
            text="".join(text_parts),
            html_parts=html_parts,
        )

    def explain(self, exc: BaseException, part: str) -> TemplateProblem:
        """Turn an error raised while rendering ``part`` into a problem at its source line."""
        line = _template_line(exc)
        if part == "subject":
            subject = self.subject_path or self.folder / SUBJECT_FILE
            return TemplateProblem(subject, line, _describe(exc, None))
        spans = self._html_spans if part == "html" else self._text_spans
        if spans is None:
            text = self.text_path or self.folder / TEXT_FILE
            return TemplateProblem(text, line, _describe(exc, None))
        seg_line, seg = _locate(spans, line, exc)
        if seg is None:
            body = self.body_path or self.folder / BODY_FILE
            return TemplateProblem(body, None, _describe(exc, None))
        return TemplateProblem(seg.path, seg_line, _describe(exc, seg))


def _merged_globals(template: jinja2.Template) -> dict[str, Any]:
    scopes = template.globals
    merged: dict[str, Any] = {}
    for scope in reversed(scopes.maps) if isinstance(scopes, ChainMap) else (scopes,):
        merged.update(scope)
    return merged


def _pieces(
    template: jinja2.Template,
    template_globals: dict[str, Any],
    variables: dict[str, Any],
    limits: RenderLimits,
) -> tuple[str, ...]:
    """What ``template`` prints for ``variables``, in pieces (``Template.render`` without
    the join): measured before anything joins them."""
    # The template's globals (merged once) and the variables in one fresh dict, given to
    # Jinja as the context's own: what ``Template.new_context(shared=True)`` makes, without
    # its copy through a ChainMap, which iterates in Python and cost more than rendering a
    # short subject.
    parent = {**template_globals, **variables}
    environment = template.environment
    context = environment.context_class(
        environment, parent, template.name, template.blocks, globals=template_globals
    )
    try:
        pieces = tuple(template.root_render_func(context))
    except Exception:
        # Re-raised with the template's own line numbers in the traceback (``explain``).
        environment.handle_exception()
    check_output(pieces, limits)
    return pieces


def build_compiled(
    sources: TemplateSources,
    compiled: CompiledSources,
    html_env: EmailSandbox,
    text_env: EmailSandbox,
) -> CompiledTemplate:
    """Compile the three Jinja sources of one version (rendered with ``html_env``'s
    limits)."""
    body_path = sources.body_path or sources.folder / BODY_FILE
    subject_path = sources.subject_path or sources.folder / SUBJECT_FILE

    def jinja(env: jinja2.Environment, source: str, path: Path) -> jinja2.Template:
        try:
            return env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            # The sources passed their own syntax check, so this is the pipeline's fault.
            message = f"compiled template is not valid Jinja ({exc.message}); please report"
            raise TemplateError(TemplateProblem(path, None, message)) from exc

    text_path = body_path if sources.text is None else sources.text_path or body_path
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
        limits=html_env.limits,
        _subject=jinja(text_env, sources.subject, subject_path),
        _html=jinja(html_env, compiled.html, body_path),
        _text=jinja(text_env, compiled.text, text_path),
        _html_spans=compiled.html_spans,
        _text_spans=compiled.text_spans,
        language=sources.language,
        subject_path=subject_path,
        body_path=body_path,
        text_path=sources.text_path,
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
                    known = [item.name for item in fields(view)]
                    hint = get_close_matches(name, known, n=1)
                    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                    meant = hint_for(name)
                    if not hint and meant and meant.startswith(f"{variable}."):
                        suggestion = f" (did you mean {{{{ {meant} }}}}?)"
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
            # Often a merge tag pasted from another tool: ``{{FirstName}}``.
            name = match.group("name")
            meant = hint_for(name)
            suggestion = f"; did you mean {{{{ {meant} }}}}?" if meant else ""
            return f"{where}undefined variable {name!r}{suggestion}"
        return f"{where}undefined: {message}"
    if isinstance(exc, RenderLimitExceeded | FormatError):
        return f"{where}{message}"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"{where}not allowed in a template: {message}"
    return f"{where}{type(exc).__name__}: {message}"

"""The sandboxed Jinja environments every template is compiled and rendered with.

Beyond Jinja's immutable sandbox (no private attributes, no methods that change data),
every render is held to a budget (``nurture.rendering.budget``): the sandbox's hooks count
loop turns, calls and filters, count what is printed, and refuse an operation whose result
would be too large before it is built (``nurture.rendering.guards``). Where Jinja offers
no hook (a ``{% for %}``, ``~``, a list written in the template), the parsed template is
rewritten before it is compiled so that one runs through a filter of ours.

No template code runs at compile time: Jinja's optimizer would evaluate constant
expressions while compiling (``{{ 'x'|center(10**9) }}`` would be built by the editor's
check, outside any render), so it is off, and ``_finalize`` takes the context so that
printed constants are not folded either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache, update_wrapper, wraps
from types import BuiltinMethodType, CodeType, MethodType
from typing import Any, cast

import jinja2
from jinja2 import nodes, pass_context, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext, Undefined, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import Namespace, internalcode
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup

from nurture.rendering.budget import (
    CLOCK_MASK,
    RenderLimits,
    check_output,
    current_meter,
    text_size,
    too_many_chars,
    too_much_output,
)
from nurture.rendering.context import CONTEXT_TYPES
from nurture.rendering.formatting import LOCALE_FILTERS
from nurture.rendering.guards import (
    FILTER_SIZES,
    GROWING_METHODS,
    binop_size,
    check_number,
    field_size,
    lipsum_size,
    method_size,
)

# Filters the rewritten template calls. ":" cannot appear in a filter name a template
# writes, so no template can call them, or replace them.
LOOP_FILTER = "nurture:loop"
CONCAT_FILTER = "nurture:concat"
BUILT_FILTER = "nurture:built"

# What a call may build that could hold one value many times (``dict(a=s, b=s)``).
_BUILT = (list, tuple, dict, set, frozenset, Namespace)


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    # What is printed is counted as it is printed: each print of a text in the HTML part is
    # a new (escaped) copy, and a loop printing a long text must stop at the limit, not
    # once the pieces of the email hold millions of copies of it. Rendered texts are also
    # measured whole before they are joined (constant text printed by a loop).
    if isinstance(value, str):
        meter = current_meter()
        if meter is not None:
            meter.produced += len(value)
            if meter.produced > meter.max_chars:
                raise too_much_output(meter.limits)
        return value
    if isinstance(value, int):
        if value.bit_length() < 192:  # fewer than ~57 digits
            return value
    elif value is None:
        # ``{{ lead.title }}`` for a lead without a title must print nothing, never "None".
        return ""
    meter = current_meter()
    if meter is not None and not isinstance(value, Undefined):
        meter.produced += text_size(value, meter.max_chars)
        if meter.produced > meter.max_chars:
            raise too_much_output(meter.limits)
    return value


def _metered_loop(iterable: Iterable[Any]) -> Iterable[Any]:
    meter = current_meter()
    return iterable if meter is None else meter.loop(iterable)


# ---------------------------------------------------------------- rewriting the template


def _filtered(node: nodes.Node, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


def _constant(node: nodes.Node) -> bool:
    """True for a literal made of constants only (its size is that of the source)."""
    if isinstance(node, nodes.Const):
        return True
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return all(_constant(item) for item in node.items)
    if isinstance(node, nodes.Dict):
        return all(_constant(pair.key) and _constant(pair.value) for pair in node.items)
    return False


class _Instrument(NodeTransformer):
    """Routes what Jinja has no sandbox hook for through our filters: each ``{% for %}``'s
    items (counted as steps), ``~`` (refused when too long) and lists, tuples and dicts
    written with variables in them (``[s, s]`` nested is a text printed many times)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _filtered(node.iter, LOOP_FILTER)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filtered(nodes.Tuple(node.nodes, "load", lineno=node.lineno), CONCAT_FILTER)

    def visit_List(self, node: nodes.List) -> nodes.Node:
        return self._built(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:
        return self._built(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        if node.ctx != "load":  # an assignment target: ``{% for key, value in … %}``
            return node
        return self._built(node)

    def _built(self, node: nodes.Expr) -> nodes.Node:
        self.generic_visit(node)
        return node if _constant(node) else _filtered(node, BUILT_FILTER)


class _MeteredCodeGenerator(CodeGenerator):
    """Jinja's code generator, on the template rewritten by ``_Instrument``."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        _Instrument().visit(node)
        node.set_environment(self.environment)
        super().visit_Template(node, frame)


# ---------------------------------------------------------------- str.format


class _SizedFormatter(SandboxedFormatter):
    """``str.format`` in the sandbox, refusing fields that would make the text too long
    (``'{:>999999999}'.format(x)``); widths nested in a spec are resolved by then."""

    def __init__(self, env: EmailSandbox, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._limits = env.limits
        self._size = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self._size = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self._size += field_size(value, format_spec, self._limits.max_chars)
        if self._size > self._limits.max_chars:
            raise too_many_chars(self._size, self._limits)
        return super().format_field(value, format_spec)


class _SizedEscapeFormatter(_SizedFormatter, EscapeFormatter):
    """``Markup.format``: escapes the values, as Jinja's own escaping formatter does."""


# ---------------------------------------------------------------- the sandbox


# The fields of the context's view objects (LeadView, …): frozen dataclasses of plain data.
_VIEW_FIELDS = {view: frozenset(item.name for item in fields(view)) for view in CONTEXT_TYPES}


class EmailSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, held to a render budget (``limits``), with a fast path for
    the context's own view objects.

    The sandbox vets every attribute access (about 1 µs each, most of a render). Reading a
    declared field of a LeadView, AccountView, … is always safe: they are frozen dataclasses
    of plain values that we built. Anything else, including calling a method on a field's
    value (``lead.attributes.clear()``), still goes through the full checks.
    """

    code_generator_class = _MeteredCodeGenerator
    # Repetition, powers, concatenation and % formatting can build huge values.
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, limits: RenderLimits | None = None, **options: Any) -> None:
        super().__init__(optimized=False, finalize=_finalize, **options)
        self.limits = limits or RenderLimits()
        # Numbers, amounts and dates in the reader's conventions (``formatting``).
        self.filters.update(LOCALE_FILTERS)
        self.filters = {
            name: _metered_filter(name, func, self.limits) for name, func in self.filters.items()
        }
        self.filters[LOOP_FILTER] = _metered_loop
        self.filters[CONCAT_FILTER] = self._checked_join
        self.filters[BUILT_FILTER] = self._checked_built
        lipsum = cast("Callable[..., str]", self.globals["lipsum"])
        self.globals["lipsum"] = _sized_global(lipsum, lipsum_size, self.limits)

    @internalcode
    def compile(  # type: ignore[override]
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> str | CodeType:
        """Jinja's compile, shared by every sandbox of the process that would generate the
        same code (``_CodeKey``): the same text compiles once, whichever library, app or
        test asks for it. A failed compile is not kept: it raises again each time."""
        if raw:
            return super().compile(source, name, filename, True, defer_init)
        if not isinstance(source, str):
            return super().compile(source, name, filename, False, defer_init)
        return _compiled_code(
            _CodeKey(self._codegen_signature(), self), source, name, filename, defer_init
        )

    def _codegen_signature(self) -> tuple[Any, ...]:
        """Everything about this environment that changes the code Jinja generates for a
        text, or whether it compiles: syntax, whitespace handling, escaping, the names of
        filters and tests (an unknown one fails the compile). The limits are not in it:
        they are read at render time."""
        return (
            type(self),
            self.block_start_string,
            self.block_end_string,
            self.variable_start_string,
            self.variable_end_string,
            self.comment_start_string,
            self.comment_end_string,
            self.line_statement_prefix,
            self.line_comment_prefix,
            self.trim_blocks,
            self.lstrip_blocks,
            self.newline_sequence,
            self.keep_trailing_newline,
            self.autoescape,
            self.optimized,
            self.is_async,
            self.finalize,
            tuple(sorted(self.extensions)),
            frozenset(self.filters),
            frozenset(self.tests),
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        fields = _VIEW_FIELDS.get(type(obj))
        if fields is not None and attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``obj`` from the template: a step, refused when it would build too much."""
        meter = current_meter()
        if meter is not None:
            meter.steps += 1
            if not meter.steps & CLOCK_MASK:
                meter.check()
            if type(obj) is LoopContext and args:
                # ``loop(children)`` in a recursive loop: its items are loop turns too.
                args = (meter.loop(args[0]), *args[1:])
        if isinstance(getattr(obj, "__self__", None), (str, bytes)):
            # A text's method: refused when it would grow the text too much (guards).
            if obj.__name__ in GROWING_METHODS:
                size, args = method_size(obj, args, kwargs, self.limits.max_chars)
                if size > self.limits.max_chars:
                    raise too_many_chars(size, self.limits)
            return super().call(context, obj, *args, **kwargs)
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(result, _BUILT) and not isinstance(obj, BuiltinMethodType):
            self._checked_built(result)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``*``, ``**``, ``+`` and ``%``, refused when the result would be too large."""
        check_number(operator, left, right)
        size = binop_size(operator, left, right, self.limits.max_chars)
        if size > self.limits.max_chars:
            raise too_many_chars(size, self.limits)
        return self.binop_table[operator](left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map`` as Jinja's sandbox runs them, with the size
        of each field checked (``_SizedFormatter``)."""
        if not isinstance(value, (MethodType, BuiltinMethodType)) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        text = value.__self__
        if not isinstance(text, str):
            return None
        str_type = type(text)
        is_format_map = value.__name__ == "format_map"
        formatter: _SizedFormatter
        if isinstance(text, Markup):
            formatter = _SizedEscapeFormatter(self, escape=text.escape)
        else:
            formatter = _SizedFormatter(self)

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs, args = args[0], ()
            return str_type(formatter.vformat(text, args, kwargs))

        return update_wrapper(wrapper, value)

    def concat(self, parts: Iterable[str]) -> str:
        """Join the pieces of a rendered text (the whole output, a ``{% set %}`` block, a
        macro's), measured first: over ``max_chars``, RenderLimitExceeded."""
        pieces = parts if isinstance(parts, list) else list(parts)
        check_output(pieces, self.limits)
        return "".join(pieces)

    def _checked_built(self, value: Any) -> Any:
        size = text_size(value, self.limits.max_chars)
        if size > self.limits.max_chars:
            raise too_many_chars(size, self.limits)
        return value

    @pass_eval_context
    def _checked_join(self, eval_ctx: EvalContext, operands: tuple[Any, ...]) -> str:
        # ``a ~ b ~ c`` (Jinja's own code would call markup_join or str_join).
        size = 0
        for operand in operands:
            size += text_size(operand, self.limits.max_chars)
            if size > self.limits.max_chars:
                raise too_many_chars(size, self.limits)
        return markup_join(operands) if eval_ctx.autoescape else str_join(operands)


@dataclass(frozen=True)
class _CodeKey:
    """What Jinja's generated code depends on (``EmailSandbox._codegen_signature``); it
    carries the environment to compile with, which is not part of its identity."""

    signature: tuple[Any, ...]
    env: EmailSandbox = field(compare=False, hash=False)


# Code objects are immutable, so one compile serves every environment with the same
# signature. Bounded: an editor saving many versions must not grow the process forever.
@lru_cache(maxsize=1024)
def _compiled_code(
    key: _CodeKey, source: str, name: str | None, filename: str | None, defer_init: bool
) -> CodeType:
    code = ImmutableSandboxedEnvironment.compile(key.env, source, name, filename, False, defer_init)
    assert isinstance(code, CodeType)
    return code


def _metered_filter(name: str, func: Callable[..., Any], limits: RenderLimits) -> Any:
    """``func`` counted as a step, and refused when its size rule (guards.FILTER_SIZES)
    says the result would be too large."""
    size_of = FILTER_SIZES.get(name)
    # pass_context/pass_eval_context/pass_environment filters take that argument first.
    lead = 0 if getattr(func, "jinja_pass_arg", None) is None else 1

    @wraps(func)
    def metered(*args: Any, **kwargs: Any) -> Any:
        meter = current_meter()
        if meter is not None:
            meter.step()
        if size_of is not None and len(args) > lead:
            size, value = size_of(args[lead], args[lead + 1 :], kwargs, limits.max_chars)
            if size > limits.max_chars:
                raise too_many_chars(size, limits)
            args = (*args[:lead], value, *args[lead + 1 :])
        return func(*args, **kwargs)

    return metered


def _sized_global(
    func: Callable[..., Any], size_of: Callable[..., int], limits: RenderLimits
) -> Callable[..., Any]:
    @wraps(func)
    def sized(*args: Any, **kwargs: Any) -> Any:
        size = size_of(args, kwargs)
        if size > limits.max_chars:
            raise too_many_chars(size, limits)
        return func(*args, **kwargs)

    return sized


def make_environments(
    limits: RenderLimits | None = None,
) -> tuple[EmailSandbox, EmailSandbox]:
    """The (HTML, text) Jinja environments every template is compiled with.

    Both are immutable sandboxes (templates are edited by marketers in a web app) held to
    ``limits`` (the defaults when None), with StrictUndefined (a typo fails validation,
    not a send). Only the HTML one autoescapes: the subject and the text part are not
    HTML. Only the text one trims the line a lone ``{% … %}`` stands on: in plain text
    that line would show as a blank line, while in HTML whitespace means nothing, and
    trimming the newline after ``{% endif %}`` could glue two words together.
    """
    html = EmailSandbox(limits=limits, autoescape=True, undefined=jinja2.StrictUndefined)
    text = EmailSandbox(
        limits=limits,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return html, text

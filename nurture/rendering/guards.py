"""Refusing, before it runs, an operation whose result would be too large.

Most of what a template does costs about as much as the values it starts from. A few
operations multiply instead: ``'x' * 10**9``, ``10 ** 10**10``, ``'%999999999s' % x``,
``'{:>999999999}'.format(x)``, ``s.replace('x', s)``, ``'x'|center(10**9)``,
``s|indent(s)``, ``sep.join(items)`` with a long ``sep``… For each, this module works out
the size of the result from the operands (cheaply, without building it); the sandbox
(``nurture.rendering.environment``) refuses it when that is over ``max_chars``. Sizes are
estimates meant to be generous upper bounds for what a real email template does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

from nurture.rendering.budget import MAX_INT_BITS, text_size, too_large_number

# ---------------------------------------------------------------- operators


def check_number(operator: str, left: Any, right: Any) -> None:
    """Refuse ``*`` or ``**`` on whole numbers whose result would be too large to use."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return
    if operator == "*":
        bits = left.bit_length() + right.bit_length()
    elif operator == "**" and right > 0 and abs(left) > 1:
        # At least this many bits (``abs(left) >= 2 ** (bit_length - 1)``).
        bits = right * max(abs(left).bit_length() - 1, 1)
    else:
        return
    if bits > MAX_INT_BITS:
        raise too_large_number(bits)


def binop_size(operator: str, left: Any, right: Any, limit: int) -> int:
    """The size of the text or collection ``left <operator> right`` builds (0 when it
    builds none): repetition, concatenation and ``%`` formatting."""
    if operator == "*":
        if isinstance(right, int) and _sized(left):
            return _repeat(left, right, limit)
        if isinstance(left, int) and _sized(right):
            return _repeat(right, left, limit)
    elif operator == "+":
        if _sized(left) and _sized(right):
            return text_size(left, limit) + text_size(right, limit)
    elif operator == "%" and isinstance(left, str):
        return printf_size(left, right, limit)
    return 0


def _sized(value: Any) -> bool:
    return isinstance(value, (str, bytes, list, tuple))


def _repeat(value: Any, times: int, limit: int) -> int:
    if times <= 0:
        return 0
    return text_size(value, limit // times + 1) * times


# ---------------------------------------------------------------- formatting

# One conversion of printf-style formatting: %(name)-12.3s, %*d, %%.
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


def _number(digits: str) -> int:
    # Widths of more than nine digits are over any limit; int() of thousands of digits
    # would itself be refused by Python.
    return int(digits) if len(digits) <= 9 else 10**9


def printf_size(fmt: str, args: Any, limit: int) -> int:
    """The size of ``fmt % args``: the format, its widths and precisions, the values."""
    size = len(fmt)
    if "%" not in fmt:
        return size
    star = False
    for width, precision in _PRINTF.findall(fmt):
        for digits in (width, precision):
            if digits == "*":
                star = True
            elif digits:
                size += _number(digits)
    if isinstance(args, Mapping):
        values: Any = args.values()
    else:
        values = args if isinstance(args, tuple) else (args,)
    for value in values:
        size += text_size(value, limit)
        if star and isinstance(value, int):
            size += abs(value)
        if size > limit:
            break
    return size


def field_size(value: Any, spec: str, limit: int) -> int:
    """The size of ``format(value, spec)`` (a field of ``str.format``): the value, and
    the widths and precisions in the spec (a date's ``%Y-%m-%d`` spec grows a little)."""
    size = text_size(value, limit) + 8 * len(spec)
    for digits in _DIGITS.findall(spec):
        size += _number(digits)
    return size


# ---------------------------------------------------------------- methods of texts


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


# A method's size rule: (the text, args, kwargs, limit) → the size of its result.
MethodSize = Callable[[Any, tuple[Any, ...], Mapping[str, Any], int], int]


def _pad(text: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int) -> int:
    width = _arg(args, kwargs, 0, "width")
    return max(len(text), width if isinstance(width, int) else 0)


def _expandtabs(text: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int) -> int:
    tabsize = _arg(args, kwargs, 0, "tabsize")
    tabs = text.count("\t") if isinstance(text, str) else text.count(b"\t")
    return len(text) + tabs * (tabsize if isinstance(tabsize, int) else 8)


def replaced_size(text: Any, old: Any, new_size: int, count: Any, limit: int) -> int:
    """The size of ``text.replace(old, new, count)`` for a ``new`` of ``new_size``."""
    size = text_size(text, limit)
    if isinstance(text, (str, bytes)) and type(old) is type(text):
        searched: Any = text  # str or bytes, and ``old`` of the same kind
        occurrences = searched.count(old) if old else len(text) + 1
    else:
        occurrences = size + 1
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    growth = new_size - (len(old) if isinstance(old, (str, bytes)) else 0)
    return size + occurrences * max(growth, 0)


def _replace(text: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int) -> int:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    count = _arg(args, kwargs, 2, "count")
    return replaced_size(text, old, text_size(new, limit), count, limit)


def _translate(text: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int) -> int:
    table = _arg(args, kwargs, 0, "table")
    longest = 1
    if isinstance(table, Mapping):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
    return len(text) * max(longest, 1)


def joined_size(separator: Any, items: list[Any], limit: int) -> int:
    """The size of ``separator.join(items)``."""
    size = max(len(items) - 1, 0) * text_size(separator, limit)
    for item in items:
        if size > limit:
            break
        size += text_size(item, limit)
    return size


# Methods of str and bytes whose result can be far larger than the text: name → size.
_METHOD_SIZES: dict[str, MethodSize] = {
    "center": _pad,
    "ljust": _pad,
    "rjust": _pad,
    "zfill": _pad,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "translate": _translate,
}


#: The methods of str and bytes that ``method_size`` has a rule for.
GROWING_METHODS = frozenset({*_METHOD_SIZES, "join"})


def method_size(
    method: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int
) -> tuple[int, tuple[Any, ...]]:
    """For a call of a text's method: the size of its result (0 when the method cannot
    grow the text) and the arguments to call it with (``join`` takes any iterable, which
    is read into a list to be measured)."""
    text = getattr(method, "__self__", None)
    if not isinstance(text, (str, bytes)):
        return 0, args
    name = getattr(method, "__name__", "")
    if name == "join" and len(args) == 1 and not kwargs:
        items = list(args[0])
        return joined_size(text, items, limit), (items,)
    rule = _METHOD_SIZES.get(name)
    if rule is None:
        return 0, args
    return rule(text, args, kwargs, limit), args


# ---------------------------------------------------------------- filters and globals

# A filter's size rule: (value, args, kwargs, limit) → (size, the value to filter). The
# value is replaced when it had to be read into a list to be measured (a generator).
FilterSize = Callable[[Any, tuple[Any, ...], Mapping[str, Any], int], tuple[int, Any]]


def _f_center(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    width = _arg(args, kwargs, 0, "width")
    return max(text_size(value, limit), width if isinstance(width, int) else 80), value


def _f_indent(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    width = _arg(args, kwargs, 0, "width")
    step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 4
    size = text_size(value, limit)
    lines = value.count("\n") + 2 if isinstance(value, str) else size + 2
    return size + lines * max(step, 0), value


def _f_format(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    if isinstance(value, str):
        return printf_size(value, kwargs or tuple(args), limit), value
    return text_size(value, limit) + text_size(list(args), limit), value


def _f_wordwrap(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    width = _arg(args, kwargs, 0, "width")
    wrapstring = _arg(args, kwargs, 2, "wrapstring")
    size = text_size(value, limit)
    per_line = max(width if isinstance(width, int) else 79, 1)
    # Consecutive wrapped lines are together longer than the width.
    lines = 2 * size // per_line + (value.count("\n") if isinstance(value, str) else size) + 1
    separator = len(wrapstring) if isinstance(wrapstring, str) else 2
    return size + lines * separator, value


def _f_replace(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    # With autoescape, ``new`` is escaped first: up to 5 characters for one (&#34;).
    new_size = 5 * text_size(new, limit)
    return replaced_size(value, old, new_size, _arg(args, kwargs, 2, "count"), limit), value


def _f_join(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    items = list(value)
    return joined_size(_arg(args, kwargs, 0, "d") or "", items, limit), items


def _f_batch(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    count, fill = _arg(args, kwargs, 0, "linecount"), _arg(args, kwargs, 1, "fill_with")
    if fill is None or not isinstance(count, int):
        return 0, value
    return count * (text_size(fill, limit) + 2), value


def _f_slice(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    count, fill = _arg(args, kwargs, 0, "slices"), _arg(args, kwargs, 1, "fill_with")
    if not isinstance(count, int):
        return 0, value
    return count * (4 + (0 if fill is None else text_size(fill, limit))), value


def _f_sum(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    start = _arg(args, kwargs, 1, "start")
    if start is None or isinstance(start, Number):
        return 0, value
    # Adding lists copies the total so far each time: the work is items x total size.
    items = list(value)
    return len(items) * text_size([start, items], limit), items


def _f_tojson(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    indent = _arg(args, kwargs, 0, "indent")
    step = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    return text_size(value, limit, indent=max(step, 0) + 1), value


def _f_urlize(value: Any, args: Any, kwargs: Any, limit: int) -> tuple[int, Any]:
    size = text_size(value, limit)
    words = value.count(" ") + value.count("\n") + 1 if isinstance(value, str) else size
    extra = 64 + sum(
        len(v) for v in (kwargs.get("target"), kwargs.get("rel")) if isinstance(v, str)
    )
    return 3 * size + words * extra, value


FILTER_SIZES: dict[str, FilterSize] = {
    "center": _f_center,
    "indent": _f_indent,
    "format": _f_format,
    "wordwrap": _f_wordwrap,
    "replace": _f_replace,
    "join": _f_join,
    "batch": _f_batch,
    "slice": _f_slice,
    "sum": _f_sum,
    "tojson": _f_tojson,
    "urlize": _f_urlize,
}


def lipsum_size(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """The size of ``lipsum(n=5, html=True, min=20, max=100)``: n paragraphs of up to
    ``max`` words."""
    paragraphs, words = _arg(args, kwargs, 0, "n"), _arg(args, kwargs, 3, "max")
    paragraphs = paragraphs if isinstance(paragraphs, int) else 5
    words = words if isinstance(words, int) else 100
    return max(paragraphs, 0) * max(words, 0) * 14

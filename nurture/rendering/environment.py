"""The sandboxed Jinja environments every template is compiled and rendered with."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nurture.rendering.context import CONTEXT_TYPES


def _finalize(value: Any) -> Any:
    # ``{{ lead.title }}`` for a lead without a title must print nothing, never "None".
    return "" if value is None else value


# The fields of the context's view objects (LeadView, …): frozen dataclasses of plain data.
_VIEW_FIELDS = {view: frozenset(item.name for item in fields(view)) for view in CONTEXT_TYPES}


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

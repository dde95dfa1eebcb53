"""Checking the MJML document before the compiler sees it, every problem at its file and line.

The MJML compiler (the ``mjml`` package) is lenient where a marketer needs it strict, and
says nothing of where it failed: a misspelt ``<mj-buton>`` fails as ``KeyError: 'mj-buton'``,
a missing ``</mj-text>`` compiles (the tags after it are swallowed or dropped), an element in
the wrong parent or a misspelt attribute vanishes from the email, and a second
``<mj-class name="x">`` fails as "Not yet implemented". So the resolved document (layout and
partials inlined, Jinja tags standing as placeholders) is read here first, with the same
HTML parser the compiler uses, and every problem is reported at the template file and line
it came from (``Origins``): the layout's or a partial's own file when it stands there.

The rules are MJML 4's own validator's: which elements exist (those the compiler registers),
which element may hold which (``_CHILDREN``), and which attributes an element takes (the
compiler's declared and default attributes, plus ``css-class`` and ``mj-class`` everywhere).

One thing the compiler cannot do is compiled as MJML does it: an ``<mj-font>`` naming a font
the compiler already declares (Roboto, Lato, …) replaces that font's address.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from html.parser import HTMLParser
from pathlib import Path

from mjml.core.registry import register_core_components

from nurture.rendering.placeholders import PLACEHOLDER_RE
from nurture.rendering.problems import TemplateProblem
from nurture.rendering.segments import Segment

# Elements whose content is HTML or text that MJML passes through as written.
CONTENT_ELEMENTS = frozenset(
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
        "mj-html-attribute",
    }
)
_BODY_LEAVES = (
    "mj-accordion",
    "mj-button",
    "mj-carousel",
    "mj-divider",
    "mj-image",
    "mj-navbar",
    "mj-raw",
    "mj-social",
    "mj-spacer",
    "mj-table",
    "mj-text",
)
# Which element may stand directly inside which (MJML 4's "dependencies").
_CHILDREN: Mapping[str, frozenset[str]] = {
    "mjml": frozenset({"mj-head", "mj-body", "mj-raw"}),
    "mj-head": frozenset(
        {
            "mj-attributes",
            "mj-breakpoint",
            "mj-font",
            "mj-html-attributes",
            "mj-preview",
            "mj-style",
            "mj-title",
            "mj-raw",
        }
    ),
    "mj-body": frozenset({"mj-section", "mj-wrapper", "mj-hero", "mj-raw"}),
    "mj-wrapper": frozenset({"mj-section", "mj-hero", "mj-raw"}),
    "mj-section": frozenset({"mj-column", "mj-group", "mj-raw"}),
    "mj-group": frozenset({"mj-column", "mj-raw"}),
    "mj-column": frozenset(_BODY_LEAVES),
    "mj-hero": frozenset(_BODY_LEAVES),
    "mj-accordion": frozenset({"mj-accordion-element", "mj-raw"}),
    "mj-accordion-element": frozenset({"mj-accordion-title", "mj-accordion-text", "mj-raw"}),
    "mj-carousel": frozenset({"mj-carousel-image"}),
    "mj-navbar": frozenset({"mj-navbar-link", "mj-raw"}),
    "mj-social": frozenset({"mj-social-element", "mj-raw"}),
    "mj-html-attributes": frozenset({"mj-selector"}),
    "mj-selector": frozenset({"mj-html-attribute"}),
}
# Elements that only group others: text or HTML directly inside them is dropped.
_CONTAINERS = frozenset(_CHILDREN) - {"mj-attributes"}
# Attributes every body element takes (MJML's global attributes).
_GLOBAL_ATTRIBUTES = frozenset({"css-class", "mj-class"})
# Attributes of elements the compiler declares none for.
_HEAD_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "mjml": frozenset({"lang", "dir", "owa"}),
    "mj-style": frozenset({"inline"}),
    "mj-raw": frozenset({"position"}),
    "mj-selector": frozenset({"path"}),
    "mj-html-attribute": frozenset({"name"}),
    "mj-include": frozenset({"path", "type", "css-inline"}),
}
# The fonts the compiler declares itself (mjml 0.12's ``mjml_to_html``): it cannot take an
# <mj-font> of the same name, which MJML lets replace the address.
COMPILER_FONTS: Mapping[str, str] = {
    "Open Sans": "https://fonts.googleapis.com/css?family=Open+Sans:300,400,500,700",
    "Droid Sans": "https://fonts.googleapis.com/css?family=Droid+Sans:300,400,500,700",
    "Lato": "https://fonts.googleapis.com/css?family=Lato:300,400,500,700",
    "Roboto": "https://fonts.googleapis.com/css?family=Roboto:300,400,500,700",
    "Ubuntu": "https://fonts.googleapis.com/css?family=Ubuntu:300,400,500,700",
}
# Attributes without which the compiler fails (with a TypeError and no place) where MJML
# would render: given on the element, by <mj-attributes> or by an mj-class.
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "mj-hero": ("background-width", "background-height"),
}
_END_TAG_RE = re.compile(r"</[^>]*>")


def _attribute_tables() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    components = register_core_components()
    attributes = {
        name: frozenset(cls.allowed_attrs()) | frozenset(cls.default_attrs()) | _GLOBAL_ATTRIBUTES
        for name, cls in components.items()
    }
    attributes.update(_HEAD_ATTRIBUTES)
    known = (
        frozenset(components)
        | frozenset(_CHILDREN)
        | frozenset(_HEAD_ATTRIBUTES)
        | {"mj-all", "mj-class"}
    )
    return known, attributes


KNOWN_ELEMENTS, _ATTRIBUTES = _attribute_tables()


@dataclass(frozen=True)
class Origins:
    """Where each stretch of the resolved document came from: offset → file and line."""

    starts: tuple[int, ...]
    segments: tuple[Segment, ...]

    def locate(self, offset: int, document: str) -> tuple[Path, int]:
        """The template file and line of ``offset`` in ``document``."""
        index = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        seg, start = self.segments[index], self.starts[index]
        if seg.kind != "text":
            return seg.path, seg.line
        return seg.path, seg.line + document.count("\n", start, offset)


@dataclass
class CheckedDocument:
    """The document to hand the compiler, and what to change in its output."""

    document: str
    # compiler font address → the address an <mj-font> of the same name gave it
    font_addresses: dict[str, str] = field(default_factory=dict)

    def finish(self, html: str) -> str:
        """The compiled HTML with the replaced fonts' addresses in it."""
        for built_in, declared in self.font_addresses.items():
            html = html.replace(built_in, declared)
        return html


@dataclass
class _Open:
    tag: str
    offset: int
    reported: bool = False


class _Reader(HTMLParser):
    """Walks the document as the compiler's parser (``html.parser``) reads it."""

    def __init__(self, document: str, origins: Origins) -> None:
        super().__init__(convert_charrefs=False)
        self.document = document
        self.origins = origins
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", document))]
        self.stack: list[_Open] = []
        self.problems: list[TemplateProblem] = []
        self.seen_body = False
        self.declared: dict[tuple[str, str], int] = {}
        # Attributes <mj-attributes> gives an element ("mj-all": every one), or a class.
        self.defaults: dict[str, set[str]] = {}
        self.classes: dict[str, set[str]] = {}
        self.removals: list[tuple[int, int]] = []
        self.font_addresses: dict[str, str] = {}
        self._font_start: int | None = None
        # After HTML reported as dropped, its own text is not reported again.
        self._in_dropped_html = False

    # ---------------------------------------------------------------- positions

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _where(self, offset: int, seen_from: int) -> str:
        """Where ``offset`` is, said from the problem at ``seen_from``: "line 7" in the same
        file, the file and line in another (a layout, a partial)."""
        path, line = self.origins.locate(offset, self.document)
        here, _line = self.origins.locate(seen_from, self.document)
        return f"line {line}" if path == here else f"{path}:{line}"

    def _problem(self, offset: int, message: str) -> None:
        path, line = self.origins.locate(offset, self.document)
        problem = TemplateProblem(path, line, f"MJML: {message}")
        if problem not in self.problems:
            self.problems.append(problem)

    # ---------------------------------------------------------------- tags

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, closed=True)

    def _element(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        offset = self._offset()
        mjml = tag == "mjml" or tag.startswith("mj-")
        parent = self.stack[-1] if self.stack else None
        if not mjml:
            if parent is not None and parent.tag in _CONTAINERS and not self._in_dropped_html:
                self._in_dropped_html = True
                self._problem(
                    offset,
                    f"<{tag}> stands directly inside <{parent.tag}>, where MJML drops it; "
                    "put HTML inside an <mj-text> or an <mj-raw>",
                )
            return
        self._in_dropped_html = False
        if tag == "mj-body":
            self.seen_body = True
        if parent is not None and parent.tag == "mj-attributes":
            self._default(tag, attrs, offset)
        elif tag not in KNOWN_ELEMENTS:
            meant = get_close_matches(tag, sorted(KNOWN_ELEMENTS), n=1)
            hint = f"; did you mean <{meant[0]}>?" if meant else ""
            self._problem(offset, f"unknown element <{tag}>{hint}")
        else:
            if parent is not None:
                self._placement(tag, parent, offset)
            elif tag != "mjml":
                self._problem(offset, f"<{tag}> stands outside <mjml>")
            self._attributes(tag, attrs, offset)
            self._required(tag, attrs, offset)
        if tag == "mj-font":
            self._font(attrs, offset, closed=closed)
        elif tag in ("mj-class", "mj-selector"):
            key = "name" if tag == "mj-class" else "path"
            self._once(tag, dict(attrs).get(key) or "", offset)
        if not closed:
            self.stack.append(_Open(tag, offset))

    def _placement(self, tag: str, parent: _Open, offset: int) -> None:
        allowed = _CHILDREN.get(parent.tag)
        if tag == "mj-include" or parent.tag not in KNOWN_ELEMENTS:
            return  # an <mj-include> stands for what it includes, wherever that may go
        if parent.tag == "mj-class":
            self._problem(offset, "the compiler does not support elements inside <mj-class>")
            return
        if allowed is not None and tag in allowed:
            return
        where = self._where(parent.offset, offset)
        if parent.tag in CONTENT_ELEMENTS:
            message = (
                f"<{tag}> inside <{parent.tag}> ({where}), whose content is HTML that MJML "
                f"sends as written; is a </{parent.tag}> missing before it?"
            )
        elif allowed is None:
            message = (
                f"<{tag}> inside <{parent.tag}> ({where}), which holds no elements; "
                f"close it with /> (<{parent.tag} … />)"
            )
        else:
            homes = sorted(name for name, children in _CHILDREN.items() if tag in children)
            belongs = " or ".join(f"<{name}>" for name in homes) or "<mj-attributes>"
            message = f"<{tag}> cannot stand inside <{parent.tag}>; it belongs in {belongs}"
        parent.reported = True
        self._problem(offset, message)

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]], offset: int) -> None:
        allowed = _ATTRIBUTES.get(tag, _GLOBAL_ATTRIBUTES)
        for name, _value in attrs:
            if name in allowed or PLACEHOLDER_RE.search(name.upper()):
                # A Jinja tag in the tag itself is refused with its own message later on.
                continue
            meant = get_close_matches(name, sorted(allowed), n=1)
            hint = f"; did you mean {meant[0]!r}?" if meant else ""
            self._problem(offset, f"<{tag}> has no attribute {name!r}{hint}")

    def _required(self, tag: str, attrs: list[tuple[str, str | None]], offset: int) -> None:
        required = _REQUIRED.get(tag)
        if not required:
            return
        given = {name for name, _value in attrs}
        given |= self.defaults.get(tag, set()) | self.defaults.get("mj-all", set())
        for name in (dict(attrs).get("mj-class") or "").split():
            given |= self.classes.get(name, set())
        missing = [name for name in required if name not in given]
        if missing:
            listed = " and ".join(missing)
            example = " ".join(f'{name}="…px"' for name in missing)
            self._problem(
                offset,
                f"<{tag}> needs {listed} (the size of its background image: {example}); "
                "the compiler cannot lay it out without",
            )

    def _default(self, tag: str, attrs: list[tuple[str, str | None]], offset: int) -> None:
        """A line of <mj-attributes>: defaults for an element, for all, or a class."""
        names = {name for name, _value in attrs}
        if tag == "mj-class":
            self.classes.setdefault(dict(attrs).get("name") or "", set()).update(names)
        else:
            self.defaults.setdefault(tag, set()).update(names)
        if tag in ("mj-all", "mj-class"):
            if tag == "mj-all":
                self._once(tag, "", offset)
            return
        if tag not in KNOWN_ELEMENTS:
            meant = get_close_matches(tag, sorted(KNOWN_ELEMENTS), n=1)
            hint = f"; did you mean <{meant[0]}>?" if meant else ""
            self._problem(offset, f"unknown element <{tag}> in <mj-attributes>{hint}")
            return
        self._once(tag, "", offset)
        self._attributes(tag, attrs, offset)

    def _once(self, tag: str, name: str, offset: int) -> None:
        """The compiler cannot take two declarations of one thing ("Not yet implemented")."""
        key = (tag, name)
        if key in self.declared:
            what = f'<{tag} name="{name}">' if tag in ("mj-class", "mj-font") else f"<{tag}>"
            if tag == "mj-selector":
                what = f'<mj-selector path="{name}">'
            self._problem(
                offset,
                f"{what} is declared twice (first at {self._where(self.declared[key], offset)}); "
                "merge the two into one",
            )
        else:
            self.declared[key] = offset

    def _font(self, attrs: list[tuple[str, str | None]], offset: int, *, closed: bool) -> None:
        values = dict(attrs)
        name, href = values.get("name") or "", values.get("href") or ""
        if not name or not href:
            self._problem(
                offset, '<mj-font> needs a name and an href (<mj-font name="…" href="…" />)'
            )
            return
        self._once("mj-font", name, offset)
        built_in = COMPILER_FONTS.get(name)
        if built_in is None:
            return
        # The compiler declares this font itself and refuses a second declaration: drop
        # this one, and put its address in the compiled HTML instead of the compiler's.
        self.font_addresses[built_in] = href
        text = self.get_starttag_text() or ""
        if closed:
            self.removals.append((offset, offset + len(text)))
        else:
            self._font_start = offset

    def handle_endtag(self, tag: str) -> None:
        if not (tag == "mjml" or tag.startswith("mj-")):
            return
        offset = self._offset()
        self._in_dropped_html = False
        if tag == "mj-font" and self._font_start is not None:
            end = _END_TAG_RE.match(self.document, offset)
            self.removals.append((self._font_start, end.end() if end else offset))
            self._font_start = None
        if not any(item.tag == tag for item in self.stack):
            self._problem(offset, f"</{tag}> closes nothing: no <{tag}> is open here")
            return
        while self.stack:
            item = self.stack.pop()
            if item.tag == tag:
                return
            if not item.reported:
                self._problem(
                    item.offset,
                    f"<{item.tag}> is never closed: </{tag}> at {self._where(offset, item.offset)} "
                    f"comes "
                    f"before its </{item.tag}>",
                )

    def handle_data(self, data: str) -> None:
        text = PLACEHOLDER_RE.sub("", data).strip()
        if not text or self._in_dropped_html:
            return  # Jinja tags between elements are wrapped in <mj-raw> afterwards.
        parent = self.stack[-1] if self.stack else None
        if parent is None or parent.tag in _CONTAINERS:
            where = f"directly inside <{parent.tag}>" if parent else "outside <mjml>"
            snippet = text if len(text) <= 40 else text[:39] + "…"
            start = self._offset() + len(data) - len(data.lstrip())
            self._problem(
                start,
                f"text {where} is dropped by MJML ({snippet!r}); put it in an <mj-text>",
            )

    def close(self) -> None:
        """Finish reading: every element still open was never closed."""
        super().close()
        for item in self.stack:
            if not item.reported:
                self._problem(item.offset, f"<{item.tag}> is never closed")
        self.stack.clear()


def origins_of(pieces: list[tuple[str, Segment]]) -> tuple[str, Origins]:
    """The document made of ``pieces`` (text as it goes to the compiler, and the segment
    it stands for) and where each stretch of it came from."""
    starts: list[int] = []
    segments: list[Segment] = []
    offset = 0
    for text, seg in pieces:
        starts.append(offset)
        segments.append(seg)
        offset += len(text)
    return "".join(text for text, _ in pieces), Origins(tuple(starts), tuple(segments))


def check_document(
    document: str, origins: Origins
) -> tuple[CheckedDocument, list[TemplateProblem]]:
    """Read ``document`` as the compiler will; return what to compile and every problem."""
    reader = _Reader(document, origins)
    reader.feed(document)
    reader.close()
    if not reader.problems and not reader.seen_body:
        path, _line = origins.locate(0, document)
        reader.problems.append(
            TemplateProblem(path, None, "MJML: the email has no <mjml><mj-body> … </mj-body>")
        )
    return CheckedDocument(_without(document, reader.removals), reader.font_addresses), list(
        reader.problems
    )


def _without(document: str, removals: list[tuple[int, int]]) -> str:
    """``document`` with the stretches ``removals`` replaced by as many newlines, so the
    lines the compiler sees stay those of the document."""
    out: list[str] = []
    last = 0
    for start, end in sorted(removals):
        out.append(document[last:start])
        out.append("\n" * document.count("\n", start, end))
        last = end
    out.append(document[last:])
    return "".join(out)

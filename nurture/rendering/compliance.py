"""What every campaign email must carry: an unsubscribe link, a preferences link and the
sender's postal address (CAN-SPAM, and most laws since).

Checked on the rendered email, not on the template's source: the footer usually comes from
the shared layout, a partial or a block the template overrides, and only the render shows
what a lead would actually receive. The template is rendered for both sample leads with the
brand's real company name and postal address; the email must link to the unsubscribe and
preferences URLs of that message (``href`` equal to the URL, a query or fragment after it
allowed) and show the address as text.

Transactional emails (handoff notifications, auto-replies, the double opt-in confirmation)
are not held to this: the campaign validator asks only for the templates campaign steps send.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from nurture.rendering.compiled import CompiledTemplate
from nurture.rendering.context import sample_context
from nurture.rendering.problems import ContentProblem, TemplateError
from nurture.rendering.sources import BODY_FILE

# Where the bundled templates get their footer; named in the messages as the easy fix.
BUNDLED_LAYOUT = "_layouts/base.mjml"

NO_ADDRESS = (
    "no postal address is configured, and every campaign email must show one (CAN-SPAM and "
    "most laws ask for it): set it on Settings \u2192 Brand or with NURTURE_POSTAL_ADDRESS"
)
NO_COMPANY = (
    "no company name is configured, and every campaign email must say who sends it: set it "
    "on Settings \u2192 Brand or with NURTURE_COMPANY_NAME"
)


def compliance_problems(
    compiled: CompiledTemplate, *, company_name: str, postal_address: str
) -> list[ContentProblem]:
    """What ``compiled`` lacks to be sent from a campaign by a sender with this company
    name and postal address (a blank name or address is itself the problem)."""
    address = " ".join(postal_address.split())
    problems: list[ContentProblem] = []
    if not company_name.strip():
        problems.append(ContentProblem(compiled.folder, None, NO_COMPANY, in_template=False))
    if not address:
        problems.append(ContentProblem(compiled.folder, None, NO_ADDRESS, in_template=False))
    missing: dict[str, None] = {}
    for sparse in (False, True):
        context = sample_context(sparse=sparse)
        context["sender"] = dataclasses.replace(
            context["sender"], company_name=company_name, postal_address=postal_address
        )
        try:
            email = compiled.render(context)
        except TemplateError:
            continue  # a template that does not render is reported by validate()
        page = _page_of(email.html)
        for key in ("unsubscribe_url", "preferences_url"):
            if not page.links_to(context[key]):
                missing[key] = None
        if address and address not in page.text:
            missing["postal_address"] = None
    body = compiled.folder / BODY_FILE
    where = _layout_note(compiled)
    for key in missing:
        message = _MESSAGES[key].replace("<where>", where).replace("<layout>", BUNDLED_LAYOUT)
        problems.append(ContentProblem(body, None, message))
    return problems


# ``<where>`` becomes the layout note, ``<layout>`` the bundled layout's name.
_MESSAGES = {
    "unsubscribe_url": (
        "the email has no unsubscribe link<where>: every campaign email must let the lead "
        'unsubscribe in one click; add <a href="{{ unsubscribe_url }}">Unsubscribe</a> '
        "to its footer, or extend <layout>, whose footer has it"
    ),
    "preferences_url": (
        "the email has no link to the email-preferences page<where>; add "
        '<a href="{{ preferences_url }}">choose which emails you get</a> to its footer, '
        "or extend <layout>, whose footer has it"
    ),
    "postal_address": (
        "the email does not show the sender's postal address<where>: every campaign email "
        "must show the one set on Settings \u2192 Brand (or NURTURE_POSTAL_ADDRESS); print "
        "{{ sender.postal_address }} in its footer, or extend <layout>, whose footer has it"
    ),
}


def _layout_note(compiled: CompiledTemplate) -> str:
    """`` (nor its layout _layouts/x.mjml)`` when the template extends a layout."""
    root = compiled.folder.parent
    layouts = [
        _relative(path, root) for path in compiled.files if path.is_relative_to(root / "_layouts")
    ]
    return f" (nor has its layout {', '.join(layouts)})" if layouts else ""


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# The sample renders of a version are the same in every library and app of the process
# (and the editor checks every campaign on every request): each HTML is read once.
@lru_cache(maxsize=256)
def _page_of(html: str) -> _Page:
    return _Page.read(html)


class _Page(HTMLParser):
    """The links and the visible text of an HTML email."""

    # Tags that separate words on the page: ``a<br>b`` reads "a b", not "ab".
    _BREAKS = frozenset({"br", "p", "div", "td", "tr", "li", "table", "h1", "h2", "h3"})
    _HIDDEN = frozenset({"style", "script", "title", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self._text: list[str] = []
        self._hidden = 0

    @classmethod
    def read(cls, html: str) -> _Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    @property
    def text(self) -> str:
        return " ".join("".join(self._text).split())

    def links_to(self, url: str) -> bool:
        return any(href == url or href.startswith((f"{url}?", f"{url}#")) for href in self.hrefs)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        if tag in self._BREAKS:
            self._text.append(" ")
        if tag in ("a", "area"):
            self.hrefs += [(value or "").strip() for name, value in attrs if name == "href"]

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in self._BREAKS:
            self._text.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._text.append(data)

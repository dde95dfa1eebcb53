"""Deriving the plain-text part from the compiled HTML, once per template version.

html2text runs on the HTML *with the placeholders still in it*, so the text part is itself a
Jinja template and html2text runs once per version, not once per recipient.
"""

from __future__ import annotations

import re
from functools import lru_cache

import html2text

from nurture.rendering.placeholders import PLACEHOLDER, PLACEHOLDER_RE
from nurture.rendering.segments import Segment

_PREVIEW_DIV_RE = re.compile(r"<div style=\"display:none;font-size:1px;[^\"]*\">.*?</div>", re.S)
_MD_LINK_RE = re.compile(r"\[\s*([^\]]*?)\s*\]\(\s*(\S+?)\s*\)")
_MD_HEADING_RE = re.compile(r"^#{1,6} ", re.M)
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")


def derive_text(html: str, table: list[Segment]) -> str:
    """The plain-text part of ``html`` (which still holds placeholders), as Jinja source."""
    statements = frozenset(index for index, seg in enumerate(table) if seg.kind == "stmt")
    return _derive_text(html, statements)


# html2text is a pure function of the HTML, and the text part depends on the table only
# through which placeholders are statements: each HTML is converted once per process
# (the same template in another library, app or worker sync). Bounded for the editor.
@lru_cache(maxsize=512)
def _derive_text(html: str, statements: frozenset[int]) -> str:
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
        found = PLACEHOLDER_RE.findall(paragraph)
        only_tags = found and not PLACEHOLDER_RE.sub("", paragraph).strip()
        if only_tags and all(int(i) in statements for i in found):
            pending.extend(PLACEHOLDER.format(i) for i in found)
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

"""The opaque placeholders Jinja tags stand as while MJML and html2text run.

MJML is an HTML parser underneath: quotes, ``<`` or ``%`` inside an expression would confuse
it, and an expression in ``href="{{ … }}"`` must come out exactly as it went in. So each tag
is replaced by a placeholder indexing a table of segments, and put back afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nurture.rendering.segments import Segment

# A placeholder is plain letters and digits: HTML parsers, MJML and html2text leave it alone.
PLACEHOLDER = "JJX{}XJJ"
PLACEHOLDER_RE = re.compile(r"JJX(\d+)XJJ")
PLACEHOLDER_MARK = "JJX"


@dataclass(frozen=True)
class SourceSpan:
    """Lines ``first``–``last`` of a compiled source came from ``segment``."""

    first: int
    last: int
    segment: Segment


def restore(
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
    parts = PLACEHOLDER_RE.split(text)
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(part)
            line += part.count("\n")
            continue
        seg = table[int(part)]
        source = seg.source
        if keep_newlines and seg.kind == "stmt" and parts[index + 1].startswith("\n"):
            before = "".join(out).rpartition("\n")[2]
            if PLACEHOLDER_RE.sub("", before).strip() and not source.endswith(("-%}", "+%}")):
                source = source[:-2] + "+%}"
        extra = source.count("\n")
        spans.append(SourceSpan(line, line + extra, seg))
        out.append(source)
        line += extra
    return "".join(out), tuple(spans)

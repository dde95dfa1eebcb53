"""Merge tags of other email tools, and the Nurture variable each one most likely meant.

Templates are often pasted from another tool: Mailchimp's ``*|FNAME|*``, ``[[FirstName]]``,
``%%FirstName%%``, or a ``{{FirstName}}`` that was a variable there. Nurture fills in none
of them: the first three would reach the lead exactly as written ("Hi *|FNAME|*,"), the
last fails the render as an undefined variable. Both are reported with the Nurture
variable to use where the name makes it obvious (``hint_for``).

The foreign tags are found in the *text* of the template's files (not inside Jinja tags or
comments), so a comment that mentions ``*|FNAME|*`` is not a problem, and each one is
reported at its own file and line, including tags in the shared layout and partials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from nurture.rendering.problems import ContentProblem, TemplateError
from nurture.rendering.segments import lex

# A name as another tool spells it, folded to lower-case letters and digits
# ("First_Name", "FIRSTNAME", "first-name" → "firstname"), and the variable meant.
_HINTS: dict[str, str] = {
    **dict.fromkeys(("firstname", "fname", "first", "givenname"), "lead.first_name"),
    **dict.fromkeys(("lastname", "lname", "last", "surname", "familyname"), "lead.last_name"),
    **dict.fromkeys(("fullname", "name", "contactname"), "lead.full_name"),
    **dict.fromkeys(("email", "emailaddress", "emailaddr", "mail"), "lead.email"),
    **dict.fromkeys(
        ("company", "companyname", "organization", "organisation", "org", "accountname"),
        "lead.company",
    ),
    **dict.fromkeys(("title", "jobtitle"), "lead.title"),
    **dict.fromkeys(("phone", "phonenumber", "mobile", "mobilephone"), "lead.phone"),
    **dict.fromkeys(
        ("unsub", "unsubscribe", "unsubscribelink", "unsubscribeurl", "optout", "optoutlink"),
        "unsubscribe_url",
    ),
    **dict.fromkeys(
        (
            "updateprofile",
            "preferences",
            "preferencesurl",
            "preferencecenter",
            "managepreferences",
            "emailpreferences",
        ),
        "preferences_url",
    ),
    **dict.fromkeys(
        ("listaddress", "address", "postaladdress", "physicaladdress", "mailingaddress"),
        "sender.postal_address",
    ),
    **dict.fromkeys(("listcompany", "sendercompany", "fromcompany"), "sender.company_name"),
}

# The tag styles, each with the name inside it as group 1.
_FOREIGN_TAGS = (
    re.compile(r"\*\|\s*([A-Za-z][\w:-]*)\s*\|\*"),  # *|FNAME|*
    re.compile(r"\[\[\s*([A-Za-z_][\w.:-]*)\s*\]\]"),  # [[FirstName]]
    re.compile(r"%%\s*([A-Za-z_][\w.:-]*)\s*%%"),  # %%FirstName%%
)


def hint_for(name: str) -> str | None:
    """The Nurture variable another tool's ``name`` most likely means (``"FNAME"`` →
    ``"lead.first_name"``), or None when the name says nothing obvious."""
    for candidate in (name, name.rsplit(".", 1)[-1], name.rsplit(":", 1)[-1]):
        hint = _HINTS.get(re.sub(r"[^a-z0-9]", "", candidate.lower()))
        if hint:
            return hint
    return None


def use_instead(name: str) -> str:
    """The end of a message: which variable to write instead of ``name``."""
    hint = hint_for(name)
    if hint:
        return f"use {{{{ {hint} }}}}"
    return "use a variable of the context (docs/templates.md, \u201cThe context\u201d)"


def foreign_merge_tags(files: Iterable[Path]) -> list[ContentProblem]:
    """Every merge tag of another tool in the text of ``files`` (a template's own files,
    its layout and partials), at its file and line."""
    problems: list[ContentProblem] = []
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # reading the files is the compile's job; it reports them
        for text, first_line in _text_pieces(path, source):
            for pattern in _FOREIGN_TAGS:
                for match in pattern.finditer(text):
                    line = first_line + text.count("\n", 0, match.start())
                    message = (
                        f"{match.group(0)} is a merge tag of another email tool: Nurture "
                        f"does not fill it in, so the lead would read it as written; "
                        f"{use_instead(match.group(1))}"
                    )
                    problems.append(ContentProblem(path, line, message))
    return sorted(problems, key=lambda problem: (str(problem.path), problem.line or 0))


def _text_pieces(path: Path, source: str) -> list[tuple[str, int]]:
    """The parts of ``source`` printed as written, each with its first line: the text
    between Jinja tags; of meta.yaml, only the preheader (its description is for people)."""
    if path.suffix in (".yaml", ".yml"):
        return _preheader(source)
    try:
        segments = lex(source, path)
    except TemplateError:
        return []  # a syntax error is reported by the compile
    return [(seg.source, seg.line) for seg in segments if seg.kind in ("text", "raw")]


def _preheader(source: str) -> list[tuple[str, int]]:
    try:
        root = yaml.compose(source)
    except yaml.YAMLError:
        return []  # reported by the compile
    if not isinstance(root, yaml.MappingNode):
        return []
    return [
        (source[value.start_mark.index : value.end_mark.index], value.start_mark.line + 1)
        for key, value in root.value
        if isinstance(key, yaml.ScalarNode) and key.value == "preheader"
    ]

"""A template specialised to a sender renders exactly what the template itself renders."""

from __future__ import annotations

from dataclasses import replace

import jinja2
import pytest

from nurture.platform.config import PROJECT_ROOT
from nurture.rendering.context import SenderView, sample_extras
from nurture.rendering.environment import make_environments
from nurture.rendering.library import TemplateLibrary, sample_context
from nurture.rendering.specialise import specialise

LIBRARY = TemplateLibrary(PROJECT_ROOT / "templates", check_interval=3600)
HTML_ENV, TEXT_ENV = make_environments()

SENDERS = [
    SenderView(
        name="Brightpath",
        email="hello@brightpath.example",
        company_name="Brightpath Analytics",
        postal_address="Brightpath Analytics, 1 Main Street, Springfield",
    ),
    # Markup, quotes and non-ASCII in every value; an address that does not start with the
    # company name; a logo.
    SenderView(
        name='Żółw & "Syn" <Ltd>',
        email="biuro@zolw.example",
        company_name='Żółw & "Syn" <Ltd>',
        postal_address="ul. Długa 5 & 7, 00-001 Warszawa <PL>",
        colour="#a0b1c2",
        logo_url="https://cdn.zolw.example/logo.png?a=1&b=<2>",
    ),
    SenderView(name="", email="x@y.example", company_name="", postal_address=""),
]


def contexts(sender: SenderView, kind: str | None = None) -> list[dict]:
    return [
        {**sample_context(sparse=sparse, sender=sender), **sample_extras(kind, sparse=sparse)}
        for sparse in (False, True)
    ]


@pytest.mark.parametrize("name", LIBRARY.names())
@pytest.mark.parametrize("sender", SENDERS, ids=["plain", "markup", "empty"])
def test_a_bundled_template_specialised_to_a_sender_renders_the_same_text(
    name: str, sender: SenderView
) -> None:
    compiled = LIBRARY.get(name)
    kind = compiled.meta.get("context")
    special = compiled.for_sender(sender)
    assert special is not compiled  # the bundled layout prints the sender
    for context in contexts(sender, kind):
        expected = compiled.render(context)
        got = special.render(context)
        assert (got.subject, got.html, got.text) == (expected.subject, expected.html, expected.text)
        # Fewer pieces: the sender's values are part of the constant text around them.
        assert len(got.html_parts) < len(expected.html_parts)
        assert "".join(got.html_parts) == expected.html


def test_a_context_with_another_sender_is_rendered_by_the_template_itself() -> None:
    compiled = LIBRARY.get("welcome-guide")
    special = compiled.for_sender(SENDERS[0])
    other = contexts(SENDERS[1])[0]
    assert special.render(other).html == compiled.render(other).html
    assert SENDERS[1].postal_address.replace("&", "&amp;") in special.render(other).html.replace(
        "&lt;", "<"
    ).replace("&gt;", ">")


def test_variants_are_made_once_per_sender() -> None:
    compiled = LIBRARY.get("welcome-guide")
    assert compiled.for_sender(SENDERS[0]) is compiled.for_sender(replace(SENDERS[0]))
    assert compiled.for_sender(SENDERS[0]).for_sender(SENDERS[1]) is compiled.for_sender(SENDERS[1])


def render(template: jinja2.Template, **context: object) -> str:
    return template.render(**context)


@pytest.mark.parametrize(
    "source",
    [
        "{{ sender.colour }}|{{ sender.logo_url }}|{{ sender.company_name|upper }}",
        "{% if sender.logo_url %}logo {{ sender.logo_url }}{% else %}no logo{% endif %}",
        "{% if not sender.logo_url %}none{% endif %}{% if sender.colour %}c{% endif %}",
        "{% if sender.postal_address.startswith(sender.company_name) %}a{% else %}b{% endif %}",
        "{% if x %}1{% elif sender.logo_url %}2{% else %}3{% endif %}",
        "{% for i in [1, 2] %}{{ sender.name }}{{ i }}{% endfor %}",
        "{% set s %}{{ sender.company_name }}{% endset %}{{ s|length }}",
        "{% macro m() %}{{ sender.colour }}{% endmacro %}{{ m() }}",
        "{{ sender.company_name ~ '!' }} {{ sender['colour'] }} {{ sender }}",
    ],
)
@pytest.mark.parametrize("env", [HTML_ENV, TEXT_ENV], ids=["html", "text"])
@pytest.mark.parametrize("sender", SENDERS, ids=["plain", "markup", "empty"])
def test_folding_keeps_what_each_construct_prints(
    source: str, env: jinja2.Environment, sender: SenderView
) -> None:
    special = specialise(env, source, {"sender": sender})
    assert special is not None
    for x in (True, False):
        assert render(special, sender=sender, x=x) == render(
            env.from_string(source), sender=sender, x=x
        )


@pytest.mark.parametrize(
    "source",
    [
        "{% set sender = other %}{{ sender.colour }}",
        "{% for sender in [other] %}{{ sender.colour }}{% endfor %}",
        "{% macro m(sender) %}{{ sender.colour }}{% endmacro %}{{ m(other) }}",
        "{% with sender = other %}{{ sender.colour }}{% endwith %}",
        "{% autoescape false %}{{ sender.company_name }}{% endautoescape %}",
        "{{ lead }}",
    ],
)
def test_a_template_that_may_rebind_the_sender_or_its_escaping_is_not_specialised(
    source: str,
) -> None:
    assert specialise(HTML_ENV, source, {"sender": SENDERS[1]}) is None

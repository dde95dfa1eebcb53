"""Every MJML problem is reported at the template file and line it stands on, with the
element, instead of the compiler's bare ``'mj-buton'``, "Not yet implemented", or nothing
at all (a missing ``</mj-text>`` used to compile)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from nurture.platform.config import PROJECT_ROOT
from nurture.rendering.library import TemplateLibrary, TemplateProblem

LAYOUT = """\
<mjml>
  <mj-body>
    {% block content %}{% endblock %}
    {% include "_partials/footer.mjml" %}
  </mj-body>
</mjml>
"""
FOOTER = """\
<mj-section>
  <mj-column>
    <mj-text>{{ sender.postal_address }}</mj-text>
  </mj-column>
</mj-section>
"""


def page(*lines: str, head: str = "") -> str:
    """A whole document whose ``lines`` start at line 5 (one section, one column)."""
    return (
        f"<mjml>\n<mj-head>{head}</mj-head>\n<mj-body>\n<mj-section><mj-column>\n"
        + "\n".join(lines)
        + "\n</mj-column></mj-section>\n</mj-body>\n</mjml>\n"
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "base.mjml").write_text(LAYOUT)
    (tmp_path / "_partials").mkdir()
    (tmp_path / "_partials" / "footer.mjml").write_text(FOOTER)
    return tmp_path


@pytest.fixture
def library(root: Path) -> TemplateLibrary:
    return TemplateLibrary(root, check_interval=0)


def problems_of(library: TemplateLibrary, body: str, name: str = "t") -> list[TemplateProblem]:
    folder = library.root / name
    folder.mkdir(exist_ok=True)
    (folder / "subject.txt").write_text("Hello\n")
    (folder / "body.mjml").write_text(body)
    return library.validate(name)


def only(problems: list[TemplateProblem]) -> TemplateProblem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_misspelt_element_is_named_at_its_line_with_the_element_meant(library) -> None:
    body = page("<mj-text>Hi</mj-text>", '<mj-buton href="https://x.example">Go</mj-buton>')
    problem = only(problems_of(library, body))
    assert (problem.path, problem.line) == (library.root / "t" / "body.mjml", 6)
    assert problem.message == "MJML: unknown element <mj-buton>; did you mean <mj-button>?"


def test_a_missing_closing_tag_fails_validation_where_it_is_missing(library) -> None:
    body = page(
        "<mj-text>Hi {{ lead.first_name }}", '<mj-button href="https://x.example">Go</mj-button>'
    )
    problems = problems_of(library, body)
    assert problems, "a missing </mj-text> must not validate"
    first = problems[0]
    assert first.line == 6
    assert "<mj-button> inside <mj-text> (line 5)" in first.message
    assert "is a </mj-text> missing" in first.message


def test_an_unclosed_element_at_the_end_of_a_column_names_what_closed_it(library) -> None:
    problem = only(problems_of(library, page("<mj-text>Hi")))
    assert problem.line == 5
    assert problem.message == (
        "MJML: <mj-text> is never closed: </mj-column> at line 6 comes before its </mj-text>"
    )


def test_a_problem_in_a_partial_names_the_partial(library, root) -> None:
    (root / "_partials" / "footer.mjml").write_text(FOOTER.replace("</mj-text>", ""))
    body = '{% extends "_layouts/base.mjml" %}\n{% block content %}{% endblock %}\n'
    problem = only(problems_of(library, body))
    assert (problem.path, problem.line) == (root / "_partials" / "footer.mjml", 3)
    assert "<mj-text> is never closed" in problem.message


def test_a_problem_in_a_child_block_is_at_the_childs_line(library, root) -> None:
    body = (
        '{% extends "_layouts/base.mjml" %}\n'
        "{% block content %}\n"
        "<mj-section>\n"
        "  <mj-colum>\n"
        "    <mj-text>Hi</mj-text>\n"
        "  </mj-colum>\n"
        "</mj-section>\n"
        "{% endblock %}\n"
    )
    problem = only(problems_of(library, body))
    assert (problem.path, problem.line) == (root / "t" / "body.mjml", 4)
    assert "unknown element <mj-colum>; did you mean <mj-column>?" in problem.message


def test_a_misspelt_attribute_is_reported_not_silently_dropped(library) -> None:
    problem = only(problems_of(library, page('<mj-text colr="#ff0000">Hi</mj-text>')))
    assert problem.line == 5
    assert problem.message == "MJML: <mj-text> has no attribute 'colr'; did you mean 'color'?"


def test_elements_the_compiler_would_drop_are_reported_where_they_stand(library) -> None:
    body = page("Hello there", "<p>Lost</p>")
    messages = [(p.line, p.message) for p in problems_of(library, body)]
    assert messages == [
        (
            5,
            "MJML: text directly inside <mj-column> is dropped by MJML ('Hello there'); "
            "put it in an <mj-text>",
        ),
        (
            6,
            "MJML: <p> stands directly inside <mj-column>, where MJML drops it; put HTML "
            "inside an <mj-text> or an <mj-raw>",
        ),
    ]


def test_an_element_in_the_wrong_parent_says_where_it_belongs(library) -> None:
    body = (
        "<mjml>\n<mj-body>\n<mj-column>\n<mj-text>Hi</mj-text>\n</mj-column>\n</mj-body>\n</mjml>\n"
    )
    problem = only(problems_of(library, body))
    assert problem.line == 3
    assert problem.message == (
        "MJML: <mj-column> cannot stand inside <mj-body>; it belongs in <mj-group> or <mj-section>"
    )


def test_an_image_left_open_swallows_nothing(library) -> None:
    body = page('<mj-image src="https://x.example/a.png">', "<mj-text>Hi</mj-text>")
    problem = only(problems_of(library, body))
    assert problem.line == 6
    assert "<mj-text> inside <mj-image> (line 5), which holds no elements" in problem.message


def test_a_font_the_compiler_already_knows_compiles_with_its_own_address(library) -> None:
    head = '<mj-font name="Roboto" href="https://fonts.example/roboto.css" />'
    body = page('<mj-text font-family="Roboto, sans-serif">Hi</mj-text>', head=head)
    assert problems_of(library, body) == []
    html = library.get("t").html_source
    assert '<link href="https://fonts.example/roboto.css"' in html
    assert "family=Roboto" not in html


def test_what_the_compiler_cannot_declare_twice_is_reported_at_the_second(library) -> None:
    head = (
        "<mj-attributes>\n"
        '<mj-class name="lead" color="#111111" />\n'
        '<mj-class name="lead" font-size="18px" />\n'
        "</mj-attributes>"
    )
    problem = only(problems_of(library, page('<mj-text mj-class="lead">Hi</mj-text>', head=head)))
    assert problem.line == 4
    assert problem.message == (
        'MJML: <mj-class name="lead"> is declared twice (first at line 3); merge the two into one'
    )


def test_a_hero_without_its_image_size_is_reported_not_a_type_error(library) -> None:
    body = (
        "<mjml>\n<mj-body>\n"
        '<mj-hero mode="fluid-height" background-url="https://x.example/h.jpg">\n'
        "<mj-text>Hi</mj-text>\n</mj-hero>\n</mj-body>\n</mjml>\n"
    )
    problem = only(problems_of(library, body))
    assert problem.line == 3
    assert "<mj-hero> needs background-width and background-height" in problem.message
    # Given by <mj-attributes>, the size is enough.
    defaults = '<mj-attributes><mj-hero background-width="600px" background-height="300px" />'
    assert (
        problems_of(
            library,
            body.replace("<mj-body>", f"<mj-head>{defaults}</mj-attributes></mj-head><mj-body>"),
        )
        == []
    )


def test_every_problem_of_a_template_is_listed(library) -> None:
    body = page("<mj-buton>Go</mj-buton>", '<mj-text colr="red">Hi</mj-text>')
    assert [p.line for p in problems_of(library, body)] == [5, 6]


def test_css_inlining_is_a_declared_dependency() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert any(
        dependency.replace(" ", "").startswith("mjml[css_inlining]")
        for dependency in project["project"]["dependencies"]
    )


def test_inline_css_is_inlined(library) -> None:
    head = '<mj-style inline="inline">.price { color: #0a7d4f; }</mj-style>'
    body = page('<mj-text><p class="price">€49</p></mj-text>', head=head)
    assert problems_of(library, body) == []
    assert '<p class="price" style="color: #0a7d4f;">€49</p>' in library.get("t").html_source


def test_a_missing_inliner_names_nurtures_own_dependency(library, monkeypatch) -> None:
    # A broken installation: css-inline cannot be imported.
    monkeypatch.setitem(sys.modules, "css_inline", None)
    head = '<mj-style inline="inline">.price { color: #0a7d4f; }</mj-style>'
    problem = only(
        problems_of(library, page('<mj-text><p class="price">€49</p></mj-text>', head=head))
    )
    assert "css-inline package is missing" in problem.message
    assert "mjml[css_inlining]" in problem.message
    assert 'pip install -e ".[css_inlining]"' not in problem.message

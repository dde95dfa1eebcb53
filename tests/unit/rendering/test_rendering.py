"""Email rendering: compile once per version, render per recipient, explain broken templates."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

import nurture.rendering.library as library_module
from nurture.models import Account, Campaign, Lead
from nurture.platform.config import PROJECT_ROOT, Settings
from nurture.rendering.library import TemplateError, TemplateLibrary, build_context, sample_context

BUNDLED = PROJECT_ROOT / "templates"
CAMPAIGN_TEMPLATES = {
    "welcome-guide",
    "cold-benchmark-report",
    "cold-five-mistakes",
    "warm-case-study",
    "warm-roi-checklist",
    "warm-webinar-invite",
    "hot-pricing-guide",
    "hot-demo-invite",
    "hot-customer-story",
    "recycle-whats-new",
}

LAYOUT = """\
<mjml>
  <mj-head><mj-preview>{% block preheader %}{% endblock %}</mj-preview></mj-head>
  <mj-body>
    <mj-section><mj-column><mj-text>HEADER</mj-text></mj-column></mj-section>
    {% block content %}{% endblock %}
    <mj-section><mj-column><mj-text>
      <a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ sender.postal_address }}
    </mj-text></mj-column></mj-section>
    <mj-raw><img src="{{ open_pixel_url }}" width="1" height="1" alt=""></mj-raw>
  </mj-body>
</mjml>
"""


def write_template(root: Path, name: str, body: str, subject: str = "Hello", **extra: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "subject.txt").write_text(subject + "\n")
    (folder / "body.mjml").write_text(body)
    for filename, content in extra.items():
        (folder / filename.replace("_", ".")).write_text(content)
    return folder


def section(text: str) -> str:
    return f"<mj-section><mj-column><mj-text>{text}</mj-text></mj-column></mj-section>\n"


def child(content: str) -> str:
    return (
        '{% extends "_layouts/base.mjml" %}\n{% block content %}\n' + content + "{% endblock %}\n"
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "base.mjml").write_text(LAYOUT)
    return tmp_path


@pytest.fixture
def library(root: Path) -> TemplateLibrary:
    # check_interval=0: every call looks at the files, so edits in a test are seen at once.
    return TemplateLibrary(root, check_interval=0)


def with_lead(context: dict, **changes: object) -> dict:
    return {**context, "lead": replace(context["lead"], **changes)}


# ---------------------------------------------------------------- the bundled templates


def test_the_bundled_templates_are_the_ones_the_example_campaign_uses() -> None:
    # Plus the transactional ones the core sends itself (double opt-in, docs/privacy.md;
    # the handoff notification and auto-reply, docs/handoff.md).
    assert set(TemplateLibrary(BUNDLED).names()) == CAMPAIGN_TEMPLATES | {
        "confirm-subscription",
        "sales-handoff",
        "handoff-auto-reply",
        # The handoff SLA's reminder and escalation (docs/handoff.md#sla).
        "sla-reminder",
        "sla-escalation",
        # The note to marketing about a hand-raiser held for review (docs/handoff.md).
        "hand-raise-review",
    }


@pytest.mark.parametrize("name", sorted(CAMPAIGN_TEMPLATES))
def test_every_bundled_template_validates_and_has_the_legal_footer(name: str) -> None:
    library = TemplateLibrary(BUNDLED)
    assert library.validate(name) == []
    for context in (sample_context(), sample_context(sparse=True)):
        email = library.render(name, context)
        assert context["unsubscribe_url"] in email.html
        assert context["preferences_url"] in email.html
        assert email.html.count(context["open_pixel_url"]) == 1
        assert context["sender"].postal_address in email.html  # the legal footer
        assert context["unsubscribe_url"] in email.text
        assert context["open_pixel_url"] not in email.text
        assert "https://brightpath.example/" in email.html
        assert email.subject and "\n" not in email.subject
        assert "{{" not in email.html and "{%" not in email.text


def test_bundled_templates_personalise_with_fallbacks() -> None:
    library = TemplateLibrary(BUNDLED)
    full = library.render("warm-case-study", sample_context())
    sparse = library.render("warm-case-study", sample_context(sparse=True))
    assert "Hi Dana," in full.text and "Northwind Logistics" in full.text
    assert "Hi there," in sparse.text and "What this could look like" not in sparse.text


# ---------------------------------------------------------------- compile once, cache


def test_a_template_compiles_once_however_often_it_renders(library: TemplateLibrary, root) -> None:
    write_template(
        root,
        "hello",
        child(section("Hi")),
    )
    first = library.get("hello")
    for _ in range(20):
        library.render("hello", sample_context())
    assert library.get("hello") is first
    assert library.compile_count == 1


def test_an_edit_compiles_a_new_version_and_a_touch_does_not(
    library: TemplateLibrary, root
) -> None:
    folder = write_template(
        root,
        "hello",
        child(section("One")),
    )
    first = library.get("hello")

    body = folder / "body.mjml"
    stat = body.stat()
    os.utime(body, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert library.get("hello") is first
    assert library.compile_count == 1

    body.write_text(body.read_text().replace("One", "Two, changed"))
    second = library.get("hello")
    assert second.version != first.version
    assert "Two, changed" in library.render("hello", sample_context()).html
    assert library.compile_count == 2


def test_the_version_covers_the_layout(library: TemplateLibrary, root) -> None:
    write_template(
        root,
        "hello",
        child(section("Hi")),
    )
    before = library.get("hello").version
    layout = root / "_layouts" / "base.mjml"
    layout.write_text(layout.read_text().replace("HEADER", "NEW HEADER"))
    after = library.get("hello")
    assert after.version != before
    assert layout in after.files
    assert "NEW HEADER" in library.render("hello", sample_context()).html


def test_files_are_looked_at_only_every_check_interval(root: Path) -> None:
    folder = write_template(
        root,
        "hello",
        child(section("One")),
    )
    library = TemplateLibrary(root, check_interval=3600)
    first = library.get("hello")
    (folder / "body.mjml").write_text((folder / "body.mjml").read_text().replace("One", "Three"))
    assert library.get("hello") is first
    library.invalidate("hello")
    assert "Three" in library.render("hello", sample_context()).html


def test_concurrent_first_use_compiles_once(library: TemplateLibrary, root) -> None:
    write_template(
        root,
        "hello",
        child(section("Hi")),
    )
    library.check_interval = 3600
    results: list[str] = []
    barrier = threading.Barrier(8)

    def render() -> None:
        barrier.wait()
        results.append(library.render("hello", sample_context()).version)

    threads = [threading.Thread(target=render) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert library.compile_count == 1


def test_a_broken_template_is_not_recompiled_until_it_changes(
    library: TemplateLibrary, root
) -> None:
    folder = write_template(
        root,
        "broken",
        child(section("{{ lead.nope }}")),
    )
    write_template(root, "bad-mjml", "<mjml><mj-head></mj-head></mjml>")
    for _ in range(3):
        with pytest.raises(TemplateError):
            library.get("bad-mjml")
    assert library.compile_count == 1
    # Compiles fine; fails per recipient, with the source line.
    with pytest.raises(TemplateError) as caught:
        library.render("broken", sample_context())
    assert caught.value.problem.path == folder / "body.mjml"


# ---------------------------------------------------------------- problems, with file and line


def test_an_undefined_field_is_reported_with_file_line_and_a_suggestion(library, root) -> None:
    folder = write_template(
        root,
        "typo",
        child(
            "<mj-section>\n"
            "  <mj-column>\n"
            "    <mj-text>\n"
            "      <p>Hello {{ lead.frist_name }},</p>\n"
            "    </mj-text>\n"
            "  </mj-column>\n"
            "</mj-section>\n"
        ),
    )
    problems = library.validate("typo")
    assert len(problems) == 1
    problem = problems[0]
    assert problem.path == folder / "body.mjml"
    assert problem.line == 6  # two lines of extends/block come first
    assert "lead.frist_name" in problem.message
    assert "did you mean 'first_name'" in problem.message
    assert str(problem).startswith(f"{folder / 'body.mjml'}:6: ")
    with pytest.raises(TemplateError) as caught:
        library.render("typo", sample_context())
    assert caught.value.problem == problem


def test_an_unguarded_account_fails_validation_for_a_lead_without_one(library, root) -> None:
    write_template(
        root,
        "company",
        child(section("At {{ account.name }}")),
    )
    assert library.render("company", sample_context()).html  # fine for a lead with an account
    (problem,) = library.validate("company")
    assert problem.line == 3
    assert "{% if" in problem.message


def test_an_error_in_the_layout_points_at_the_layout(library, root) -> None:
    layout = root / "_layouts" / "base.mjml"
    layout.write_text(
        layout.read_text().replace("{{ sender.postal_address }}", "{{ sender.adress }}")
    )
    write_template(
        root,
        "hello",
        child(section("Hi")),
    )
    (problem,) = library.validate("hello")
    assert problem.path == layout
    assert problem.line == 7
    assert "sender has no field 'adress'" in problem.message


def test_a_jinja_syntax_error_is_reported_with_its_line(library, root) -> None:
    write_template(
        root,
        "syntax",
        child(section("\n{% if lead.first_name %}Hi\n")),
        subject="Hello {{ lead.first_name",
    )
    problems = library.validate("syntax")
    # Jinja notices the unclosed {% if %} at the {% endblock %} (line 6) and says so.
    assert {(p.path.name, p.line) for p in problems} == {("subject.txt", 1), ("body.mjml", 6)}
    assert any("'if'" in p.message for p in problems)
    assert all("Jinja syntax error" in p.message for p in problems)


def test_an_unknown_filter_is_reported_at_its_line_like_any_template_error(library, root) -> None:
    write_template(
        root,
        "filters",
        child(section("Hi\n{{ lead.first_name | shout }}")),
        subject="Hello {{ lead.first_name | shouty }}",
    )

    problems = library.validate("filters")

    assert {(p.path.name, p.line) for p in problems} == {("subject.txt", 1), ("body.mjml", 4)}
    messages = " ".join(p.message for p in problems)
    assert "No filter named 'shout'" in messages and "No filter named 'shouty'" in messages
    assert "please report" not in messages


def test_missing_templates_and_files_are_problems(library, root) -> None:
    write_template(
        root,
        "hello",
        child(section("Hi")),
    )
    (problem,) = library.validate("nope")
    assert "no template named 'nope'" in problem.message and "hello" in problem.message
    assert (
        not library.exists("nope")
        and not library.exists("../etc")
        and not library.exists("_layouts")
    )
    with pytest.raises(TemplateError):
        library.render("nope", sample_context())
    (root / "hello" / "subject.txt").unlink()
    (problem,) = library.validate("hello")
    assert problem.path == root / "hello" / "subject.txt" and "missing" in problem.message


def test_mjml_and_placement_problems_are_reported(library, root) -> None:
    write_template(root, "no-body", "<mjml><mj-head></mj-head></mjml>")
    (problem,) = library.validate("no-body")
    assert "MJML" in problem.message
    write_template(
        root,
        "in-head",
        "<mjml>\n<mj-head>\n{% if lead %}<mj-title>x</mj-title>{% endif %}\n</mj-head>\n"
        "<mj-body></mj-body></mjml>",
    )
    (problem,) = library.validate("in-head")
    assert problem.line == 3 and "<mj-head>" in problem.message
    write_template(root, "escape", child('{% include "../../etc/passwd" %}\n'))
    (problem,) = library.validate("escape")
    assert "outside the templates folder" in problem.message


def test_the_sandbox_refuses_unsafe_calls(library, root) -> None:
    write_template(root, "unsafe", child(section("{{ lead.attributes.clear() }}")))
    (problem,) = library.validate("unsafe")
    assert "not allowed" in problem.message
    # The fast path for view fields does not open anything else on the view objects.
    write_template(root, "private", child(section("{{ lead.__class__.__mro__ }}")))
    (problem,) = library.validate("private")
    assert "not allowed" in problem.message and "__class__" in problem.message


# ---------------------------------------------------------------- escaping and output


def test_html_is_autoescaped_but_subject_and_text_are_not(library, root) -> None:
    write_template(
        root,
        "hello",
        child(section("Hi {{ lead.first_name }}")),
        subject="Hi {{ lead.first_name }}",
    )
    name = "<script>alert('x')</script> & Co"
    email = library.render("hello", with_lead(sample_context(), first_name=name))
    assert "<script>" not in email.html
    assert "Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in email.html
    assert f"Hi {name}" in email.text
    assert email.subject == f"Hi {name}"


def test_a_subject_is_one_line_whatever_the_data(library, root) -> None:
    write_template(root, "hello", child(""), subject="Hi {{ lead.first_name }}")
    email = library.render(
        "hello", with_lead(sample_context(), first_name="Dana\r\nBcc: x@y.example")
    )
    assert email.subject == "Hi Dana Bcc: x@y.example"


def test_none_prints_as_nothing(library, root) -> None:
    write_template(
        root,
        "hello",
        child(section("[{{ lead.title }}]")),
    )
    assert "[]" in library.render("hello", sample_context(sparse=True)).text


def test_block_tags_between_mjml_elements_stay_where_they_were(library, root) -> None:
    write_template(
        root,
        "blocks",
        child(
            section("BEFORE")
            + "{% if account %}\n"
            + section("ACCOUNT {{ account.name }}")
            + "{% endif %}\n"
            "<mj-section><mj-column>\n"
            "  {% for word in ['alpha', 'beta', 'gamma'] %}\n"
            "  <mj-text>ITEM {{ loop.index }} {{ word }}</mj-text>\n"
            "  {% endfor %}\n"
            "</mj-column></mj-section>\n" + section("AFTER")
        ),
    )
    source = library.get("blocks").html_source
    order = [
        "BEFORE",
        "{% if account %}",
        "ACCOUNT",
        "{% endif %}",
        "{% for word",
        "ITEM",
        "{% endfor %}",
        "AFTER",
    ]
    positions = [source.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert source.count("{% if account %}") == 1

    full = library.render("blocks", sample_context())
    assert "ACCOUNT Northwind Logistics" in full.html
    items = [full.html.index(f"ITEM {i} {w}") for i, w in enumerate(["alpha", "beta", "gamma"], 1)]
    assert items == sorted(items)
    assert (
        full.html.index("BEFORE") < full.html.index("ACCOUNT") < items[0] < full.html.index("AFTER")
    )
    assert "ACCOUNT" not in library.render("blocks", sample_context(sparse=True)).html
    text = full.text
    assert "ITEM 1 alpha\n\nITEM 2 beta\n\nITEM 3 gamma" in text


def test_expressions_in_attributes_survive_mjml_intact(library, root) -> None:
    write_template(
        root,
        "links",
        child(
            "<mj-section><mj-column>\n"
            '<mj-button href="{{ preferences_url }}?from=button&amp;'
            "lang={{ lead.locale or 'en' }}\">Go</mj-button>\n"
            '<mj-text><a href="{{ unsubscribe_url }}" '
            'title="{{ lead.first_name or "there" }}">x</a></mj-text>\n'
            "</mj-column></mj-section>\n"
        ),
    )
    source = library.get("links").html_source
    # (The MJML port writes mj-button's href unescaped: "&amp;" comes out as "&".)
    assert "href=\"{{ preferences_url }}?from=button&lang={{ lead.locale or 'en' }}\"" in source
    assert 'title="{{ lead.first_name or "there" }}"' in source
    html = library.render("links", sample_context()).html
    assert 'href="https://nurture.example/u/sample/preferences?from=button&lang=en-US"' in html
    assert 'title="Dana"' in html


def test_a_tag_inside_a_tag_is_refused(library, root) -> None:
    write_template(
        root,
        "attr",
        child(
            '<mj-section {% if account %}padding="0"{% endif %}>'
            "<mj-column></mj-column></mj-section>\n"
        ),
    )
    (problem,) = library.validate("attr")
    assert "quoted attribute value" in problem.message


def test_the_text_part_is_derived_once_from_the_html(library, root) -> None:
    write_template(
        root,
        "derived",
        child(
            "<mj-section><mj-column>\n"
            "<mj-text><h2>Heading</h2><p>Hi <strong>{{ lead.first_name or 'there' }}</strong>,"
            ' see <a href="https://brightpath.example/guide">the guide</a>.</p>'
            "<ul><li>one</li><li>two</li></ul></mj-text>\n"
            '<mj-button href="https://brightpath.example/demo">Book a demo</mj-button>\n'
            "</mj-column></mj-section>\n"
        ),
        meta_yaml="preheader: Hidden preview text for {{ lead.first_name or 'you' }}\n",
    )
    compiled = library.get("derived")
    assert compiled.text_derived
    assert "{{ lead.first_name or 'there' }}" in compiled.text_source  # a template, not output
    email = compiled.render(sample_context())
    assert "Hidden preview text for Dana" in email.html
    assert "Hidden preview" not in email.text
    assert "Heading\n\nHi Dana, see the guide (https://brightpath.example/guide)." in email.text
    assert "  * one\n  * two" in email.text
    assert "Book a demo (https://brightpath.example/demo)" in email.text
    assert "<" not in email.text and "**" not in email.text and "#" not in email.text


def test_a_hand_written_text_part_is_used_as_is(library, root) -> None:
    write_template(
        root,
        "manual",
        child(section("HTML")),
        body_txt=(
            "Hi {{ lead.first_name }},\n"
            "{% if account %}\nAt {{ account.name }}.\n{% endif %}\n"
            "Bye {{ unsubscribe_url }}\n"
        ),
    )
    compiled = library.get("manual")
    assert not compiled.text_derived
    assert compiled.render(sample_context()).text == (
        "Hi Dana,\nAt Northwind Logistics.\nBye https://nurture.example/u/sample\n"
    )
    assert TemplateLibrary(BUNDLED).get("hot-demo-invite").text_derived is False


def test_layouts_support_super_and_partials(library, root) -> None:
    (root / "_partials").mkdir()
    (root / "_partials" / "note.mjml").write_text(section("NOTE {{ sender.company_name }}"))
    write_template(
        root,
        "nested",
        '{% extends "_layouts/base.mjml" %}\n'
        "{% block preheader %}{{ super() }}Preheader{% endblock %}\n"
        '{% block content %}{% include "_partials/note.mjml" %}{% endblock %}\n',
    )
    compiled = library.get("nested")
    assert root / "_partials" / "note.mjml" in compiled.files
    email = compiled.render(sample_context())
    assert "NOTE Example Company" in email.html and "Preheader" in email.html


# ---------------------------------------------------------------- the context


def test_build_context_copies_the_lead_its_account_and_the_sender() -> None:
    account = Account(
        name="Northwind",
        domain="northwind.example",
        industry="Logistics",
        employees=420,
        country="US",
        attributes={"tier": "gold"},
    )
    lead = Lead(
        email="dana@northwind.example",
        first_name="Dana",
        last_name="Whitfield",
        title="VP",
        stage="lead",
        temperature="warm",
        attributes={"crm": "HubSpot"},
        account=account,
    )
    settings = Settings(
        instance_path=Path("/tmp/x"),
        database_url="sqlite://",
        secret_key="k",
        mail_from="Brightpath Team <team@brightpath.example>",
    )
    urls = {
        "unsubscribe_url": "https://n/u/1",
        "preferences_url": "https://n/p/1",
        "open_pixel_url": "https://n/o/1",
    }
    campaign = Campaign(key="b2b-nurture", name="B2B nurture")
    context = build_context(lead, campaign=campaign, urls=urls, settings=settings)

    assert context["lead"].full_name == "Dana Whitfield"
    assert context["lead"].company == "Northwind"
    assert context["lead"].attributes == {"crm": "HubSpot"}
    assert context["account"].industry == "Logistics" and context["account"].attributes == {
        "tier": "gold"
    }
    assert (context["campaign"].id, context["campaign"].name) == ("b2b-nurture", "B2B nurture")
    assert (
        context["sender"].name == "Brightpath Team"
        and context["sender"].email == "team@brightpath.example"
    )
    assert context["sender"].postal_address == settings.postal_address
    assert context["unsubscribe_url"] == "https://n/u/1"

    alone = build_context(
        Lead(email="x@y.example", stage="lead", temperature="cold"), urls=urls, settings=settings
    )
    assert alone["account"] is None and alone["campaign"] is None and alone["lead"].company is None
    assert alone["lead"].full_name == "x@y.example"
    rendered = TemplateLibrary(BUNDLED).render("welcome-guide", alone)
    assert "Hi there," in rendered.text

    with pytest.raises(ValueError, match="open_pixel_url"):
        build_context(
            lead, urls={"unsubscribe_url": "a", "preferences_url": "b"}, settings=settings
        )


def test_a_deleted_template_stops_rendering_and_missing_names_are_not_cached(library, root):
    folder = write_template(root, "gone", child(section("Hi")))
    library.render("gone", sample_context())
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    for _ in range(2):
        with pytest.raises(TemplateError, match="no template named 'gone'"):
            library.get("gone")
    with pytest.raises(TemplateError):
        library.get("../../etc/passwd")
    assert library._entries == {}


def test_validation_is_kept_with_the_compiled_version_and_redone_after_an_edit(
    library, root, monkeypatch
) -> None:
    folder = write_template(root, "company", child(section("At {{ account.name }}")))
    renders = []
    real = library_module.sample_context
    monkeypatch.setattr(
        library_module, "sample_context", lambda **kw: renders.append(kw) or real(**kw)
    )
    (problem,) = library.validate("company")
    assert len(renders) == 2  # the full and the sparse sample
    assert library.validate("company") == [problem]
    assert len(renders) == 2  # unchanged files: the kept result
    body = folder / "body.mjml"
    body.write_text(child(section("{% if account %}At {{ account.name }}{% endif %}")))
    stat = body.stat()
    os.utime(body, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert library.validate("company") == []
    assert len(renders) == 4
    library.invalidate()
    assert library.validate("company") == []
    assert len(renders) == 6

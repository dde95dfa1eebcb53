"""The render budget: a runaway template fails with a message saying which limit, quickly,
and without taking the memory first; a normal template renders exactly as before."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nurture.handoff.samples import register_samples
from nurture.platform.config import ConfigError, Settings
from nurture.rendering.budget import start_metering, stop_metering
from nurture.rendering.environment import make_environments
from nurture.rendering.library import (
    RenderLimitExceeded,
    RenderLimits,
    TemplateError,
    TemplateLibrary,
    render_limits,
    sample_context,
)
from tests.unit.rendering.test_rendering import BUNDLED, LAYOUT, child, section, write_template


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "base.mjml").write_text(LAYOUT)
    return tmp_path


def render(source: str, limits: RenderLimits | None = None, **context: object) -> str:
    """``source`` rendered by the HTML sandbox as a render of a template is metered."""
    html, _ = make_environments(limits)
    template = html.from_string(source)
    metering = start_metering(html.limits)
    try:
        return template.render(context)
    finally:
        stop_metering(metering)


def refused(source: str, limits: RenderLimits | None = None, **context: object) -> str:
    """The message the budget stops ``source`` with (it must stop it within seconds)."""
    started = time.perf_counter()
    with pytest.raises(RenderLimitExceeded) as caught:
        render(source, limits, **context)
    assert time.perf_counter() - started < 5
    return str(caught.value)


# ---------------------------------------------------------------- runaway templates


def test_loops_inside_loops_stop_at_the_step_limit_at_the_inner_loops_line(root) -> None:
    library = TemplateLibrary(root, check_interval=0)
    body = (
        "{% for a in range(100000) %}\n"
        + section("{% for b in range(100000) %}x{% endfor %}")
        + "{% endfor %}\n"
    )
    write_template(root, "runaway", child(section("Hi {{ lead.first_name }}") + body))
    started = time.perf_counter()
    [problem] = library.validate("runaway")
    assert time.perf_counter() - started < 5
    assert problem.path == root / "runaway" / "body.mjml"
    assert problem.line == 5  # the inner loop, in the file as written
    assert problem.message == (
        "{% for b in range(100000) %}: the template ran more than 1,000,000 steps (loop turns, "
        "calls and filters) — a loop inside a loop, or a macro that calls itself?"
    )


def test_loops_over_a_leads_data_are_counted_too() -> None:
    tags = [f"tag{i}" for i in range(2000)]
    source = (
        "{% for a in tags %}{% for b in tags %}{% if a == b %}={% endif %}{% endfor %}{% endfor %}"
    )
    assert "more than 1,000,000 steps" in refused(source, tags=tags)
    assert render(source, tags=tags[:3]) == "==="


def test_a_loop_too_long_for_the_budget_fails_before_it_starts() -> None:
    limits = RenderLimits(max_steps=2000)
    seen: list[int] = []
    source = "{% for a in items %}{{ record(a) }}{% endfor %}ok"  # a turn and a call each
    message = refused(source, limits, items=list(range(5000)), record=seen.append)
    assert "more than 2,000 steps" in message
    assert seen == []
    assert render(source, limits, items=list(range(900)), record=seen.append) == "ok"
    assert len(seen) == 900


def test_a_macro_calling_itself_or_a_recursive_loop_is_stopped() -> None:
    limits = RenderLimits(max_steps=10_000)
    macro = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
    assert "a macro that calls itself?" in refused(macro + "{{ f(40) }}", limits)
    tree = (
        "{% for x in [1, 2, 3] recursive %}{% if loop.depth < 30 %}{{ loop([1, 2, 3]) }}"
        "{% endif %}{% endfor %}"
    )
    assert "more than 10,000 steps" in refused(tree, limits)


def test_huge_texts_and_numbers_are_refused_before_they_are_built() -> None:
    tracemalloc.start()
    try:
        for source in (
            "{{ 'x' * 10**9 }}",
            "{{ ['x'] * 10**9 }}",
            "{{ 'x'|center(1000000000) }}",
            "{{ 'x'.ljust(10**9) }}",
            "{{ '%999999999s' % 'x' }}",
            "{{ '{:>999999999}'.format('x') }}",
            "{{ '{:{w}}'.format('x', w=999999999) }}",
            "{{ 'abc'|indent(1000000000) }}",
            "{{ lipsum(100000) }}",
            "{% set s = 'x' * 10000 %}{{ s.replace('x', s) }}",
            "{% set s = 'x' * 10000 %}{{ s|replace('x', s) }}",
            "{% set s = 'x' * 10000 %}{{ (range(1000)|list)|join(s) }}",
            "{% set s = 'x' * 10000 %}{{ s.join(range(1000)|map('string')) }}",
            "{% set s = 'x' * 10000 %}{{ s|wordwrap(1, wrapstring=s) }}",
        ):
            message = refused(source)
            assert "characters, more than the 2,000,000 a template may produce" in message, source
        assert "numbers of up to 4,300 digits" in refused("{{ 10 ** (10 ** 10) }}")
        # Squaring in a loop: the tenth square of 7 already has 830 digits, the 13th 6,600.
        squares = (
            "{% set ns = namespace(n=7) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}"
        )
        assert "numbers of up to 4,300 digits" in refused(squares + "{% endfor %}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000


def test_a_text_doubled_again_and_again_is_refused_when_it_gets_too_long() -> None:
    doubling = (
        "{% set ns = namespace(s='x' * 1000) %}{% for i in range(40) %}"
        "{% set ns.s = ns.s {op} ns.s %}{% endfor %}"
    )
    for op in ("~", "+"):
        assert "a template may produce" in refused(doubling.replace("{op}", op))


def test_a_list_holding_a_long_text_many_times_is_refused() -> None:
    # [s, s] in memory is one text; printed, joined or made JSON it is many.
    nested = "{% set s = 'x' * 600000 %}{% set a = [s, s] %}{% set b = [a, a] %}{{ b|length }}"
    assert "about 2,400,0" in refused(nested)
    assert "a template may produce" in refused("{% set s = 'x' * 1500000 %}{{ dict(a=s, b=s) }}")
    assert "a template may produce" in refused("{{ ([[1]] * 300000)|sum(start=[]) }}")
    assert "a template may produce" in refused("{{ range(10)|batch(100000000, 'x')|list }}")
    assert "a template may produce" in refused("{{ [1]|slice(100000000)|list }}")


def test_output_is_capped_as_it_is_printed() -> None:
    limits = RenderLimits(max_chars=100_000)
    message = refused("{% for i in range(100000) %}{{ 'y' * 100 }}{% endfor %}", limits)
    assert message == (
        "the template produced more than 100,000 characters (an email is rarely over "
        "100,000) — a loop printing too much?"
    )
    # A long text printed again and again stops at once, not after the loop built it all.
    tracemalloc.start()
    try:
        long_text = "{% set s = 'x' * 90000 %}{% for i in range(100000) %}{{ s|upper }}{% endfor %}"
        assert "more than 100,000 characters" in refused(long_text, limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    # Constant text in a loop is counted too (it is joined into the email).
    assert "more than 100,000 characters" in refused(
        "{% for i in range(1000) %}" + "constant " * 20 + "{% endfor %}", limits
    )


def test_processor_time_is_the_backstop_for_expensive_steps() -> None:
    limits = RenderLimits(max_seconds=0.05)
    source = "{% set s = 'x' * 500000 %}{% for i in range(100000) %}{% if s|upper %}{% endif %}"
    started = time.perf_counter()
    message = refused(source + "{% endfor %}", limits)
    assert message.startswith("the template took more than 0.05 s of processor time")
    assert time.perf_counter() - started < 2


def test_nothing_is_evaluated_while_compiling() -> None:
    # Jinja's optimizer would build constant expressions at compile time, outside any
    # render and its limits: the editor's check compiles on every keystroke.
    html, _ = make_environments()
    tracemalloc.start()
    try:
        template = html.from_string("{{ 'x'|center(100000000) }}{{ ('ab' ~ 'c')|center(10) }}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000
    metering = start_metering(html.limits)
    try:
        with pytest.raises(RenderLimitExceeded):
            template.render()
    finally:
        stop_metering(metering)


# ---------------------------------------------------------------- normal templates


SAME_AS_JINJA = [
    "{% for a in items %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
    "{% for k, v in {'a': 1, 'b': x}.items() %}{{ k }}={{ v }};{% else %}none{% endfor %}",
    "{% for c in 'abc' if c != 'b' %}{{ c }}{% endfor %}"
    "{% for a in [] %}x{% else %}empty{% endfor %}",
    "{{ 'a' ~ x ~ 1 }} {{ [1, x] }} {{ (1, x) }} {{ {'k': x} }} {{ [x] * 3 }} {{ x * 2 }}",
    "{{ 3 + 4 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ 2 ** 10 }} {{ 7 % 3 }}"
    " {{ '%05.1f|%s' % (2.5, x) }}",
    "{{ '{}-{:>4}-{n}'.format(x, 'b', n=3) }} {{ '{a}'.format_map({'a': x}) }}",
    "{{ x|center(9) }}|{{ 'a\nb'|indent(2, true) }}|{{ '%s and %s'|format(x, 2) }}",
    "{{ 'one two three'|wordwrap(4) }}|{{ 'aXa'|replace('a', 'bb') }}|{{ items|join(', ') }}",
    "{{ items|batch(2, 0)|list }} {{ items|slice(2)|list }} {{ [[1], [2]]|sum(start=[]) }}",
    "{{ items|sum }} {{ {'a': [1, x]}|tojson }} {{ {'a': 1}|tojson(2) }} {{ 'x.com'|urlize }}",
    "{% set ns = namespace(n=0) %}{% for i in items %}{% set ns.n = ns.n + i %}{% endfor %}"
    "{{ ns.n }}",
    "{% macro m(a) %}<{{ a }}>{% endmacro %}{{ m(x) }}{% set b %}[{{ x }}]{% endset %}{{ b }}",
    "{% filter upper %}{{ x }}&y{% endfilter %} {{ x.upper() }} {{ x.split('x') }}",
    "{% for row in rows recursive %}{{ row.n }}{% if row.c %}({{ loop(row.c) }}){% endif %}"
    "{% endfor %}",
]


@pytest.mark.parametrize("source", SAME_AS_JINJA)
def test_the_budget_changes_nothing_a_normal_template_prints(source: str) -> None:
    context = {
        "x": "X<y>",
        "items": [1, 2, 3, 4],
        "rows": [{"n": 1, "c": [{"n": 2, "c": []}]}, {"n": 3, "c": []}],
    }
    plain = ImmutableSandboxedEnvironment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: "" if value is None else value,
    )
    assert render(source, **context) == plain.from_string(source).render(context)


def test_every_bundled_template_renders_well_within_the_budget() -> None:
    register_samples()  # the handoff templates' sample data
    # A tenth of the default output and a two-thousandth of the default steps.
    tight = TemplateLibrary(BUNDLED, limits=RenderLimits(max_chars=200_000, max_steps=500))
    assert len(tight.names()) > 10
    for name in tight.names():
        assert tight.validate(name) == [], name


def test_limits_come_from_the_library_and_fail_only_over_them(root) -> None:
    loop = child(section("{% for i in range(300) %}{{ i }} {% endfor %}"))
    write_template(root, "counting", loop)
    assert TemplateLibrary(root, limits=RenderLimits(max_steps=1000)).validate("counting") == []
    [problem] = TemplateLibrary(root, limits=RenderLimits(max_steps=200)).validate("counting")
    assert "more than 200 steps" in problem.message
    with pytest.raises(TemplateError, match="more than 200 steps"):
        TemplateLibrary(root, limits=RenderLimits(max_steps=200)).render(
            "counting", sample_context()
        )


# ---------------------------------------------------------------- settings


def test_the_limits_are_settings(tmp_path: Path) -> None:
    defaults = render_limits(Settings.from_env({}, instance_path=tmp_path))
    assert defaults == RenderLimits(max_chars=2_000_000, max_steps=1_000_000, max_seconds=1.0)
    env = {
        "NURTURE_RENDER_MAX_CHARS": "500000",
        "NURTURE_RENDER_MAX_STEPS": "20000",
        "NURTURE_RENDER_MAX_CPU": "0.25",
    }
    assert render_limits(Settings.from_env(env, instance_path=tmp_path)) == RenderLimits(
        500_000, 20_000, 0.25
    )
    two = Settings.from_env({"NURTURE_RENDER_MAX_CPU": "2s"}, instance_path=tmp_path)
    assert two.render_max_cpu == 2.0
    for variable, value in (
        ("NURTURE_RENDER_MAX_CHARS", "0"),
        ("NURTURE_RENDER_MAX_STEPS", "lots"),
        ("NURTURE_RENDER_MAX_CPU", "0"),
    ):
        with pytest.raises(ConfigError, match=variable):
            Settings.from_env({variable: value}, instance_path=tmp_path)

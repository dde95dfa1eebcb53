"""The two MJML compilers side by side: the ``mjml`` package (pure Python, what Nurture uses)
and ``mrml`` (MJML in Rust, with Python bindings). Completeness and speed, in one run.

    .venv/bin/pip install mrml          # not a dependency of Nurture: for this comparison
    .venv/bin/python bench/mjml_engines.py [--repeat 5]

Each template of the fixture set (tests/fixtures/mjml_templates, 25 templates in the style of
the public MJML templates) and of the bundled templates/ is read and checked as the product
does (``prepare_document``: layout and partials resolved, Jinja tags as placeholders,
nurture.rendering.mjml_check passed), then the same document is compiled by each engine. An
engine *completes* a template when it compiles without error, every Jinja tag comes out as
the product needs (``check_placeholders``), and the result renders for the sample lead. The
time is the best of ``--repeat`` compiles of one template (CPU time of the thread), summed.

Then the traps of issue 12 are given to each engine raw (without Nurture's check): what the
compiler alone says about a misspelt element, a missing closing tag, a misspelt attribute.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import ROOT, print_machine

from nurture.rendering.context import sample_context, sample_extras
from nurture.rendering.environment import make_environments
from nurture.rendering.library import TemplateLibrary
from nurture.rendering.mjml_compile import check_placeholders, prepare_document
from nurture.rendering.placeholders import restore
from nurture.rendering.problems import TemplateError
from nurture.rendering.sources import read_sources

FIXTURES = ROOT / "tests" / "fixtures" / "mjml_templates"
BUNDLED = ROOT / "templates"

TRAPS = {
    "misspelt element <mj-buton>": (
        "<mjml><mj-body><mj-section><mj-column><mj-buton href='https://x.example'>Go"
        "</mj-buton></mj-column></mj-section></mj-body></mjml>"
    ),
    "missing </mj-text>": (
        "<mjml><mj-body><mj-section><mj-column><mj-text>Hi\n<mj-button href='https://x.example'>"
        "Go</mj-button></mj-column></mj-section></mj-body></mjml>"
    ),
    "misspelt attribute colr=": (
        "<mjml><mj-body><mj-section><mj-column><mj-text colr='red'>Hi</mj-text></mj-column>"
        "</mj-section></mj-body></mjml>"
    ),
}


def python_engine(root: Path) -> Callable[[str], str]:
    from mjml import mjml_to_html

    def compile_(document: str) -> str:
        return mjml_to_html(document, template_dir=str(root), keep_comments=False).html

    return compile_


def rust_engine(root: Path) -> Callable[[str], str]:
    import mrml

    options = mrml.ParserOptions(include_loader=mrml.local_loader(str(root)))
    render = mrml.RenderOptions(disable_comments=True)

    def compile_(document: str) -> str:
        return mrml.to_html(document, parser_options=options, render_options=render).content

    return compile_


def completes(root: Path, name: str, compile_: Callable[[str], str]) -> tuple[bool, str]:
    """Whether the engine compiles template ``name`` into an email the product can send."""
    html_env, _text_env = make_environments()
    sources = read_sources(root, name, html_env)
    prepared = prepare_document(sources)
    context = {**sample_context(), **sample_extras(sources.meta.get("context"), sparse=False)}
    try:
        html = prepared.checked.finish(compile_(prepared.document))
    except Exception as exc:
        return False, f"{type(exc).__name__}: {str(exc)[:80]}"
    try:
        check_placeholders(html, list(prepared.table))
    except TemplateError as error:
        return False, error.problem.message[:100]
    source, _spans = restore(html, list(prepared.table))
    try:
        rendered = html_env.from_string(source).render(context)
    except Exception as exc:
        return False, f"does not render: {type(exc).__name__}: {str(exc)[:80]}"
    if "<mj-" in rendered:
        return False, "an MJML tag reached the email"
    return True, ""


def best_time(root: Path, name: str, compile_: Callable[[str], str], repeat: int) -> float:
    html_env, _text_env = make_environments()
    document = prepare_document(read_sources(root, name, html_env)).document
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        compile_(document)
        best = min(best, time.thread_time() - started)
    return best


def check_time(root: Path, name: str, repeat: int) -> float:
    """Best time of checking the template's resolved document (nurture.rendering.mjml_check)
    and wrapping its Jinja tags: what Nurture adds before the compiler runs."""
    html_env, _text_env = make_environments()
    sources = read_sources(root, name, html_env)
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        prepare_document(sources)
        best = min(best, time.thread_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        import mrml  # noqa: F401
    except ImportError:
        raise SystemExit("mrml is not installed: .venv/bin/pip install mrml") from None
    from importlib.metadata import version

    print_machine()
    print(f"mjml {version('mjml')} (Python)   mrml {version('mrml')} (Rust)\n")
    engines = (("mjml", python_engine), ("mrml", rust_engine))
    results: dict[str, dict[str, float | None]] = {}  # template → engine → seconds or None
    for root in (FIXTURES, BUNDLED):
        for name in TemplateLibrary(root).names():
            key = f"{root.name}/{name}"
            results[key] = {}
            line = [f"{key:42}"]
            for label, factory in engines:
                engine = factory(root)
                ok, why = completes(root, name, engine)
                seconds = best_time(root, name, engine, args.repeat) if ok else None
                results[key][label] = seconds
                shown = f"{seconds * 1e3:6.2f} ms" if seconds is not None else f"FAILS ({why})"
                line.append(f"{label} {shown}")
            print("  ".join(line))
    print()
    for label, _factory in engines:
        done = [times[label] for times in results.values() if times[label] is not None]
        print(f"{label}: completes {len(done)} of {len(results)} templates")
    both = [times for times in results.values() if None not in times.values()]
    slow = sum(times["mjml"] or 0.0 for times in both)
    fast = sum(times["mrml"] or 0.0 for times in both)
    checking = sum(
        check_time(root, name, args.repeat)
        for root in (FIXTURES, BUNDLED)
        for name in TemplateLibrary(root).names()
    )
    print(
        f"checking them first (prepare_document, before either compiler): {checking * 1e3:.1f} ms"
    )
    print(
        f"over the {len(both)} templates both complete: mjml {slow * 1e3:.1f} ms, "
        f"mrml {fast * 1e3:.1f} ms, mrml {slow / fast:.0f}x faster\n"
    )
    print("The traps of issue 12, given to each compiler without Nurture's check:")
    for trap, document in TRAPS.items():
        verdicts = []
        for label, factory in (("mjml", python_engine), ("mrml", rust_engine)):
            try:
                factory(ROOT)(document)
                verdicts.append(f"{label}: compiles, says nothing")
            except Exception as exc:
                verdicts.append(f"{label}: {type(exc).__name__}: {str(exc)[:60]!r}")
        print(f"  {trap:28} " + "; ".join(verdicts))


if __name__ == "__main__":
    main()

"""The process-wide compile cache: the same template text compiles once per process,
whichever library or folder asks, and an edit is always a new compile."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nurture.rendering.mjml_compile as mjml_compile
from nurture.rendering.library import TemplateLibrary, sample_context
from tests.unit.rendering.test_rendering import LAYOUT, child, section, write_template


@pytest.fixture
def mjml_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents MJML is run on from now on."""
    runs: list[str] = []
    real: Callable[..., Any] = mjml_compile.mjml_to_html

    def counted(document: str, **options: Any) -> Any:
        runs.append(document)
        return real(document, **options)

    monkeypatch.setattr(mjml_compile, "mjml_to_html", counted)
    return runs


def _root(path: Path) -> Path:
    """A template folder with the layout the templates extend."""
    (path / "_layouts").mkdir(parents=True)
    (path / "_layouts" / "base.mjml").write_text(LAYOUT)
    return path


def _unique() -> str:
    # A text no other test compiled: the cache lives as long as the process.
    return f"Unique {uuid.uuid4().hex}"


def test_a_second_folder_with_the_same_template_reuses_its_compile(
    tmp_path: Path, mjml_runs: list[str]
) -> None:
    text = _unique()
    for folder in ("first", "second"):
        write_template(_root(tmp_path / folder), "hello", child(section(text)))
    first = TemplateLibrary(tmp_path / "first")
    second = TemplateLibrary(tmp_path / "second")

    one = first.render("hello", sample_context())
    two = second.render("hello", sample_context())

    assert len(mjml_runs) == 1
    assert text in one.html and one.html == two.html
    # Each library still counts (and caches) the version it built itself.
    assert first.compile_count == 1 and second.compile_count == 1
    assert first.get("hello").folder == tmp_path / "first" / "hello"
    assert second.get("hello").folder == tmp_path / "second" / "hello"


def test_an_edit_compiles_again_and_changes_only_the_edited_template(
    tmp_path: Path, mjml_runs: list[str]
) -> None:
    before, after = _unique(), _unique()
    for folder in ("first", "second"):
        write_template(_root(tmp_path / folder), "hello", child(section(before)))
    first = TemplateLibrary(tmp_path / "first", check_interval=0)
    second = TemplateLibrary(tmp_path / "second", check_interval=0)
    first.get("hello"), second.get("hello")

    body = tmp_path / "second" / "hello" / "body.mjml"
    body.write_text(body.read_text().replace(before, after))

    assert after in second.render("hello", sample_context()).html
    assert before in first.render("hello", sample_context()).html
    assert len(mjml_runs) == 2


def test_a_document_with_mj_include_is_compiled_with_its_folders_file(
    tmp_path: Path, mjml_runs: list[str]
) -> None:
    # The same body.mjml text includes a different file in each folder: its output is not
    # a function of its text alone.
    body = child(f'{section(_unique())}<mj-include path="./parts/footer.mjml" />\n')
    for folder, words in (("first", "Footer one"), ("second", "Footer two")):
        write_template(_root(tmp_path / folder), "hello", body)
        parts = tmp_path / folder / "parts"
        parts.mkdir()
        (parts / "footer.mjml").write_text(section(words))

    one = TemplateLibrary(tmp_path / "first").render("hello", sample_context())
    two = TemplateLibrary(tmp_path / "second").render("hello", sample_context())

    assert "Footer one" in one.html and "Footer two" not in one.html
    assert "Footer two" in two.html and "Footer one" not in two.html
    assert len(mjml_runs) == 2

"""Helpers for the editor's browser journeys."""

from __future__ import annotations

from typing import Any


def wait_for_check(page: Any, text: str) -> None:
    """Wait until the problems box (filled by the check as one types) says ``text``."""
    page.locator("#problems").get_by_text(text).first.wait_for(timeout=30_000)


def replace_text(page: Any, label: str, text: str) -> None:
    """Replace the whole text of the editor labelled ``label`` as a person would: select
    all, then type (``fill`` fires the same input event the check listens to)."""
    # The editor's script (deferred) listens for input only once the page has loaded; text
    # typed before that is not checked, which on a loaded machine the test could do.
    page.wait_for_load_state("load")
    area = page.get_by_label(label, exact=True)
    area.fill(text)

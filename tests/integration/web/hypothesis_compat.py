"""hypothesis-jsonschema 0.23 with Hypothesis ≥ 6.14x: a shim for ``many().more()``.

hypothesis-jsonschema (which schemathesis 3.39 generates JSON with) draws object
properties with the old ``while elements.more():`` protocol of Hypothesis's private
``many`` helper; newer Hypothesis only offers ``with many(...) as elements: for _ in
elements:``, so every object schema fails with "'many' object has no attribute 'more'".
``install()`` gives hypothesis-jsonschema (only it) a ``many`` that speaks both. Remove it
when hypothesis-jsonschema speaks the new protocol, or pin Hypothesis below it.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

from hypothesis.internal.conjecture import utils as conjecture_utils


class _ManyWithMore(conjecture_utils.many):  # type: ignore[misc]
    """``many`` with the old ``more()``: each call decides whether to draw one more."""

    _steps: Iterator[None] | None = None

    def more(self) -> bool:
        if self._steps is None:
            self.__enter__()
            self._steps = iter(self)
        try:
            next(self._steps)
        except StopIteration:
            self.__exit__(None)
            return False
        return True


def install() -> None:
    """Give hypothesis-jsonschema the shim, if this Hypothesis needs it."""
    from hypothesis_jsonschema import _from_schema

    if hasattr(conjecture_utils.many, "more"):
        return
    patched: Any = types.SimpleNamespace(**vars(conjecture_utils))
    patched.many = _ManyWithMore
    _from_schema.cu = patched

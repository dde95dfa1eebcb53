"""Templates specialised to a sender: the brand's values folded into the template's text.

Every email of an instance has the same sender (company name, postal address, colour,
logo), yet the bundled layout prints those values a dozen times per email, and each print
costs a sandboxed attribute read, the finalize hook and an escape at render time: more than
the recipient's own values. A template specialised to a sender has them as constant text
(and its ``{% if sender.logo_url %}`` decided), so a render prints only what differs per
recipient. The text it produces is the same, character for character.

Only reads of a view's declared field (``sender.colour``) are folded, with the value the
render would have read, escaped as the render would have escaped it. A template that could
give ``sender`` another meaning (``{% set %}``, a loop or macro parameter of that name, a
``{% with %}``) or that changes escaping (``{% autoescape %}``) is left as it is. Nothing a
template computes runs at compile time except ``startswith``/``endswith`` between folded
texts (their cost is bounded by the texts themselves).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from markupsafe import escape

# Text methods whose result on folded texts is decided at compile time: pure, bounded,
# and returning a bool.
_FOLDED_METHODS = frozenset({"startswith", "endswith"})


def specialise(
    env: jinja2.Environment, source: str, constants: Mapping[str, Any]
) -> jinja2.Template | None:
    """``source`` compiled by ``env`` with each read of a field of ``constants``' views
    (``{"sender": SenderView(…)}``) replaced by its value. None when nothing would change or
    the template cannot be specialised safely; render the result only with contexts whose
    values for those names are ``constants``' own."""
    template = env.parse(source)
    names = {name for name, value in constants.items() if is_dataclass(value)}
    if not names or not _foldable(template, names):
        return None
    folder = _Fold({name: constants[name] for name in names}, bool(env.autoescape))
    folder.visit(template)
    if not folder.changed:
        return None
    return env.from_string(template)


def _foldable(template: nodes.Template, names: set[str]) -> bool:
    """True when every use of ``names`` in ``template`` reads the context's value under a
    fixed escaping: no name rebound, no escaping switched, no other template involved."""
    others = (
        nodes.EvalContextModifier,
        nodes.Extends,
        nodes.Include,
        nodes.Import,
        nodes.FromImport,
    )
    if next(template.find_all(others), None) is not None:
        return False
    return all(
        not (name.name in names and name.ctx != "load") for name in template.find_all(nodes.Name)
    )


class _Fold(NodeTransformer):
    def __init__(self, constants: Mapping[str, Any], autoescape: bool) -> None:
        self.constants = constants
        self.autoescape = autoescape
        self.changed = False

    def _value(self, node: nodes.Node) -> tuple[bool, Any]:
        """(True, the value) when ``node`` reads a declared field of a folded view whose
        value is a text or None; (False, None) otherwise."""
        if (
            isinstance(node, nodes.Getattr)
            and isinstance(node.node, nodes.Name)
            and node.node.ctx == "load"
            and node.node.name in self.constants
        ):
            view = self.constants[node.node.name]
            if node.attr in {item.name for item in fields(view)}:
                value = getattr(view, node.attr)
                if value is None or isinstance(value, str):
                    return True, value
        return False, None

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        found, value = self._value(node)
        if found:
            self.changed = True
            return nodes.Const(value, lineno=node.lineno)
        return self.generic_visit(node)

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        self.generic_visit(node)  # in place
        target = node.node
        if (
            isinstance(target, nodes.Getattr)
            and target.attr in _FOLDED_METHODS
            and isinstance(target.node, nodes.Const)
            and isinstance(target.node.value, str)
            and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const)
            and isinstance(node.args[0].value, str)
            and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
        ):
            method = getattr(target.node.value, target.attr)
            return nodes.Const(bool(method(node.args[0].value)), lineno=node.lineno)
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        # A printed field becomes template text: written as the render would print it
        # (None prints nothing, HTML is escaped), and joined with the text around it.
        children: list[nodes.Expr] = []
        for child in node.nodes:
            found, value = self._value(child)
            if found:
                self.changed = True
                text = "" if value is None else str(escape(value) if self.autoescape else value)
                children.append(nodes.TemplateData(text, lineno=child.lineno))
            else:
                children.append(self.visit(child))
        node.nodes = children
        return node

    def visit_If(self, node: nodes.If) -> nodes.Node | list[nodes.Node]:
        # The branches by hand: an ``elif`` is an If node that must stay one.
        node.test = self.visit(node.test)
        node.body = self._statements(node.body)
        for branch in node.elif_:
            branch.test = self.visit(branch.test)
            branch.body = self._statements(branch.body)
        node.else_ = self._statements(node.else_)
        if node.elif_:
            return node
        truth = _truth(node.test)
        if truth is None:
            return node
        return node.body if truth else node.else_

    def _statements(self, body: list[nodes.Node]) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for statement in body:
            visited = self.visit(statement)
            if isinstance(visited, list):
                out.extend(visited)
            elif visited is not None:
                out.append(visited)
        return out


def _truth(test: nodes.Node) -> bool | None:
    """The truth of a test made of folded values only, or None when it depends on more."""
    if isinstance(test, nodes.Const):
        return bool(test.value)
    if isinstance(test, nodes.Not):
        inner = _truth(test.node)
        return None if inner is None else not inner
    return None

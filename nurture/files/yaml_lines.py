"""YAML that remembers where everything was written.

A safe loader building :class:`LineDict` and :class:`LineList`, which carry the 1-based line
of every mapping key and list item, so each problem in a campaign file can name its line. It
also reports duplicate keys (PyYAML silently keeps the last) and resolves fewer implicit
types than YAML 1.1 does: ``10:00`` stays the text ``"10:00"`` instead of the number 600,
``no``/``on`` stay text (``country: NO`` is Norway), and dates stay text, so the data can be
stored as JSON exactly as written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item (1-based)."""

    line: int
    item_lines: list[int]


class LineLoader(yaml.SafeLoader):
    """A SafeLoader building LineDict/LineList and reporting duplicate keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, Any, int]] = []


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merges
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "a key must be a plain value, not a list or mapping",
                key_node.start_mark,
            ) from None
        line = key_node.start_mark.line + 1
        if key in mapping:
            # PyYAML silently keeps the last of two equal keys; two tracks or two fields with
            # the same name are almost always a copy-paste mistake, so say so.
            loader.duplicate_keys.append((line, key, mapping.key_lines[key]))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    sequence = LineList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)

# Implicit types: only true/false, decimal integers and plain decimals. See the module
# docstring for why sexagesimal numbers, yes/no/on/off booleans and timestamps are dropped.
LineLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:timestamp",
        )
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)$"
    ),
    list("-+0123456789."),
)


def to_plain(value: Any) -> Any:
    """The same data with plain dicts and lists (what is stored as a version's JSON spec)."""
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value


def line_of(container: Any, key: Any, default: int) -> int:
    """The line of ``key`` in a LineDict (or of item ``key`` in a LineList)."""
    if isinstance(container, LineDict):
        return container.key_lines.get(key, default)
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container):
        return container.item_lines[key]
    return default


def own_line(value: Any, default: int) -> int:
    """The line a LineDict/LineList starts on, or ``default`` for plain data."""
    return getattr(value, "line", default)

"""The event catalogue, and every YAML example in the docs and README held to it.

A doc example with a misspelt event type (``demo_requested``) taught marketers to write a
goal that never fires; whole example files are loaded by the loader of their kind, and every
fragment's event names are checked against the catalogue, so such an example fails CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nurture.campaigns.loader import load_campaign_text
from nurture.files.event_catalogue import load_event_types_text
from nurture.files.parser import Parser
from nurture.platform.event_types import BUILT_IN_NAMES, is_known
from nurture.qualification.icp_parser import load_icp_text
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring.parser import load_scoring_text
from nurture.tracking.event_intake import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[3]
DOCS = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.S | re.M)


def yaml_examples() -> Iterator[tuple[str, str]]:
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            yield f"{doc.relative_to(ROOT)}:{line}", match.group(1)


EXAMPLES = list(yaml_examples())


def loader_for(data: Any):
    """The loader of a whole example file, told apart by its top-level keys; None for a
    fragment (one section of a file shown on its own)."""
    if not isinstance(data, dict):
        return None
    keys = set(data)
    if {"id", "tracks"} <= keys:
        return load_campaign_text
    if {"rules", "bands"} <= keys:
        return load_scoring_text
    if {"grades", "criteria"} <= keys:
        return load_icp_text
    if "rules" in keys and "recycle_cooldown" in keys:
        return load_readiness_text
    if "types" in keys and keys <= {"types", "description"}:
        return load_event_types_text
    return None


def event_names(data: Any) -> Iterator[str]:
    """Every event type a campaign, scoring or readiness example names, at any depth."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "event" and isinstance(value, str):
                yield value
            elif key == "event" and isinstance(value, dict) and isinstance(value.get("type"), str):
                yield value["type"]
            elif key == "hand_raised" and isinstance(value, dict):
                events = value.get("events") or []
                yield from (events if isinstance(events, list) else [events])
            yield from event_names(value)
    elif isinstance(data, list):
        for item in data:
            yield from event_names(item)


def test_the_docs_hold_the_five_whole_example_files_the_loaders_know():
    kinds = {loader_for(yaml.safe_load(text)) for _where, text in EXAMPLES} - {None}
    assert kinds == {
        load_campaign_text,
        load_scoring_text,
        load_icp_text,
        load_readiness_text,
        load_event_types_text,
    }


@pytest.mark.parametrize(("where", "text"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_every_docs_yaml_example_names_only_known_event_types(where, text):
    data = yaml.safe_load(text)
    unknown = [name for name in event_names(data) if not is_known(name)]
    assert unknown == [], f"{where}: unknown event types {unknown}"
    load = loader_for(data)
    if load is not None:
        result = load(text, where)
        assert [str(problem) for problem in result.problems] == []


def test_every_type_the_events_api_accepts_is_in_the_catalogue():
    assert set(EVENT_TYPES) <= BUILT_IN_NAMES


def test_an_unknown_type_is_refused_with_the_closest_known_one():
    parser = Parser("scoring.yaml")

    assert parser.known_event_type("page.view", 7) is False
    assert parser.known_event_type("custom.contract_signed", 8) is True
    assert parser.known_event_type("webinar.attended", 9) is True
    [problem] = parser.problems
    assert problem.line == 7
    assert "unknown event type 'page.view' (did you mean 'page.viewed'?)" in problem.message


def test_a_scoring_rule_with_an_unknown_event_fails_at_its_line():
    text = (
        "name: s\nhalf_life: 30d\nbands: {warm: 1, hot: 2}\nrules:\n"
        "  - { id: a, event: page.viewed, points: 1 }\n"
        "  - { id: b, event: demo_requested, points: 2 }\n"
    )
    result = load_scoring_text(text, "scoring.yaml")

    assert [(p.line, p.message.split(":")[0]) for p in result.problems] == [
        (6, "unknown event type 'demo_requested' (did you mean 'demo.requested'?)")
    ]


def test_a_readiness_hand_raise_naming_an_unknown_event_fails_at_its_line():
    text = (
        "name: r\nrules:\n  - id: h\n    hand_raised:\n      events:\n"
        "        - demo.requested\n        - trial_started\n"
    )
    result = load_readiness_text(text, "readiness.yaml")

    assert [(p.line, p.message.split(":")[0]) for p in result.problems] == [
        (7, "unknown event type 'trial_started' (did you mean 'trial.started'?)")
    ]

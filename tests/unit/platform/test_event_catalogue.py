"""The team's own event types: the event types file, and the files and events held to it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from nurture.campaigns.loader import load_campaign_text
from nurture.files.event_catalogue import load_event_types_text, read_event_catalogue
from nurture.platform.event_types import ANY_CUSTOM
from nurture.qualification.readiness_parser import load_readiness_text
from nurture.scoring.parser import load_scoring_text
from nurture.tracking.event_intake import validate_event

EVENTS = """\
types:
  custom.contract_signed:
    description: The contract was signed in the CRM
    properties: [plan, seats]
  custom.video_watched:
    description: A product video was played
"""
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def catalogue():
    read = load_event_types_text(EVENTS, "events.yaml")
    assert read.problems == ()
    return read.catalogue


def scoring(rule: str) -> str:
    return f"name: s\nhalf_life: 30d\nbands: {{warm: 1, hot: 2}}\nrules:\n{rule}"


def messages(problems) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(problem.line, problem.message) for problem in problems]


def test_without_a_file_every_custom_type_is_known():
    assert ANY_CUSTOM.knows("custom.anything_at_all")
    assert not ANY_CUSTOM.knows("custom_thing")
    assert read_event_catalogue(Path("/nonexistent/events.yaml")).catalogue == ANY_CUSTOM


def test_with_a_file_only_declared_custom_types_are_known():
    known = catalogue()
    assert known.knows("custom.contract_signed")
    assert known.knows("demo.requested")  # built-in types need no declaring
    assert not known.knows("custom.contract_singed")
    assert known.closed_properties("custom.contract_signed") == ("plan", "seats")
    assert known.closed_properties("custom.video_watched") is None
    assert known.closed_properties("page.viewed") is None


def test_a_misspelt_custom_type_in_a_scoring_rule_fails_at_its_line():
    text = scoring(
        "  - { id: a, event: custom.contract_signed, points: 5 }\n"
        "  - { id: b, event: custom.contract_singed, points: 5 }\n"
    )
    assert load_scoring_text(text, "scoring.yaml").problems == []  # no file: accepted

    problems = load_scoring_text(text, "scoring.yaml", catalogue=catalogue()).problems
    assert messages(problems) == [
        (
            6,
            "unknown event type 'custom.contract_singed' (did you mean "
            "'custom.contract_signed'?): declare it in events.yaml (docs/events.md)",
        )
    ]


def test_a_scoring_condition_on_an_undeclared_property_fails_at_its_line():
    text = scoring(
        "  - id: big\n    event: custom.contract_signed\n    points: 20\n"
        "    when:\n      properties:\n        seat: [50, 100]\n"
    )
    problems = load_scoring_text(text, "scoring.yaml", catalogue=catalogue()).problems
    assert messages(problems) == [
        (
            10,
            "custom.contract_signed events have no property 'seat' (did you mean 'seats'?) "
            "(declared in events.yaml: plan, seats)",
        )
    ]
    # A type declared without a list of properties carries any.
    free = scoring(
        "  - id: v\n    event: custom.video_watched\n    points: 2\n"
        "    when:\n      properties:\n        percent: 100\n"
    )
    assert load_scoring_text(free, "scoring.yaml", catalogue=catalogue()).problems == []


def test_campaign_goal_and_readiness_hand_raise_are_held_to_the_file():
    campaign = (
        "id: c\nname: C\nentry: { manual: true }\ngoal: { event: custom.video_wached }\n"
        "tracks:\n  main:\n    steps:\n      - { id: w, wait: 1d }\n"
    )
    problems = load_campaign_text(campaign, "c.yaml", catalogue=catalogue()).problems
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (4, "unknown event type 'custom.video_wached' (did you mean 'custom.video_watched'?)")
    ]
    readiness = (
        "name: r\nrules:\n  - id: h\n    hand_raised:\n      events:\n"
        "        - custom.contract_signd\n"
    )
    problems = load_readiness_text(readiness, "r.yaml", catalogue=catalogue()).problems
    assert [p.line for p in problems] == [6]


def test_the_file_reports_each_bad_entry_and_keeps_the_good_ones():
    text = (
        "types:\n"
        "  video_watched:\n    description: no prefix\n"
        "  page.viewed:\n    description: built in\n"
        "  custom.ok:\n    description: fine\n    properties: [a, b, a]\n"
        "  custom.nodesc:\n    properties: [x]\n"
        "  custom.fine:\n    description: kept\n"
        "colour: blue\n"
    )
    read = load_event_types_text(text, "events.yaml")
    assert messages(read.problems) == [
        (2, "'video_watched' is not a custom type name: use custom.NAME, lower case, digits "
            "and _ . - (e.g. custom.video_watched)"),
        (4, "'page.viewed' is a built-in type: it needs no declaring"),
        (8, "property 'a' is listed twice"),
        (10, "missing field 'description' in custom.nodesc"),
        (13, "unknown field 'colour'"),
    ]  # fmt: skip
    assert [event.name for event in read.catalogue.declared] == ["custom.ok", "custom.fine"]
    assert read.catalogue.strict


def test_the_catalogue_is_read_again_when_the_file_changes(tmp_path):
    path = tmp_path / "events.yaml"
    path.write_text(EVENTS)
    assert not read_event_catalogue(path).catalogue.knows("custom.webinar_booked")
    path.write_text(EVENTS + "  custom.webinar_booked:\n    description: booked\n")
    os.utime(path, ns=(1, 2_000_000_000))  # a different mtime even on a coarse clock
    assert read_event_catalogue(path).catalogue.knows("custom.webinar_booked")


def test_the_events_api_refuses_an_undeclared_custom_type_and_property():
    body = {"type": "custom.video_watch", "email": "ada@example.com"}
    event, errors = validate_event(body, NOW, catalogue())
    assert event is None
    assert errors == {
        "type": "custom.video_watch is not declared in the event types file; declared: "
        "custom.contract_signed, custom.video_watched"
    }
    body = {
        "type": "custom.contract_signed",
        "email": "ada@example.com",
        "properties": {"plan": "pro", "seatz": 9},
    }
    event, errors = validate_event(body, NOW, catalogue())
    assert errors == {"properties": "custom.contract_signed carries only plan, seats; not seatz"}
    body["properties"] = {"plan": "pro", "seats": 9}
    event, errors = validate_event(body, NOW, catalogue())
    assert errors == {} and event is not None and event.properties == {"plan": "pro", "seats": 9}
    # Without a file, any custom type and property, as before.
    event, errors = validate_event({**body, "type": "custom.video_watch"}, NOW)
    assert errors == {}

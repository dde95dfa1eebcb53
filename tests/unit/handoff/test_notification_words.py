"""The handoff emails' facts put in their reader's words: the SLA with the language's
plurals, the deadline and working days with its day names, why nobody could take a lead,
and snapshots written before these facts were kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nurture.handoff.notification import (
    Words,
    assignment_words,
    deadline_text,
    policy_text,
    present,
    working_hours_text,
)
from nurture.handoff.samples import SAMPLE_NOW, sample_handoff

POLISH, ENGLISH = Words("pl"), Words("en")


@pytest.mark.parametrize(
    ("policy", "polish"),
    [
        ("1 business hour", "1 godzina robocza"),
        ("4 business hours", "4 godziny robocze"),
        ("5 business hours", "5 godzin roboczych"),
        ("22 business hours", "22 godziny robocze"),
        ("30 business minutes", "30 minut roboczych"),
        ("whenever", "whenever"),  # not a policy the app wrote: shown as it is
    ],
)
def test_the_sla_is_counted_with_the_readers_plurals(policy, polish):
    assert policy_text(POLISH, policy) == polish
    assert policy_text(ENGLISH, policy) == policy


def test_the_deadline_reads_as_the_reader_writes_a_day_and_keeps_the_owners_time():
    due = datetime(2026, 11, 11, 9, 30, tzinfo=UTC)  # 10:30 in Berlin

    english = deadline_text(ENGLISH, due, "Europe/Berlin", "4 business hours")
    polish = deadline_text(POLISH, due, "Europe/Berlin", "4 business hours")

    assert english == "by Wed 11 Nov, 10:30 (Europe/Berlin time; 4 business hours)"
    assert polish == "do śr., 11 lis, 10:30 (czas Europe/Berlin; 4 godziny robocze)"


def test_working_hours_in_the_team_files_notation_read_with_the_languages_day_names():
    assert working_hours_text(POLISH, "mon-fri 09:00-17:30", "Europe/Berlin") == (
        "pon.–pt. 09:00–17:30 (Europe/Berlin)"
    )
    assert working_hours_text(ENGLISH, "mon,wed,fri 08:00-12:00", None) == (
        "Mon, Wed, Fri 08:00–12:00"
    )
    assert working_hours_text(POLISH, "mon-sun 00:00-24:00", None) == "codziennie 00:00–24:00"
    assert working_hours_text(POLISH, "whenever", None) == "whenever"


def test_a_lead_nobody_could_take_is_explained_from_the_facts_assignment_kept():
    facts = {
        "method": "unassigned",
        "reason": "nobody available for PL, enterprise (skipped: ann@x inactive)",
        "country": "PL",
        "segment": "enterprise",
        "no_rule": False,
        "skipped_count": 2,
    }

    polish = assignment_words(POLISH, facts)["reason"]
    english = assignment_words(ENGLISH, facts)["reason"]
    unknown = assignment_words(POLISH, {**facts, "country": None, "skipped_count": 0})["reason"]

    assert polish == (
        "Nikt nie może przyjąć leada (PL, enterprise) "
        "(2 osoby z zespołu są nieobecne, nieaktywne lub mają komplet leadów)"
    )
    assert english == (
        "Nobody is available for PL, enterprise (2 reps are away, inactive or at capacity)"
    )
    assert unknown == "Nikt nie może przyjąć leada (nieznany kraj, enterprise)"
    # A snapshot from before the facts were kept says what it said.
    older = {"method": "unassigned", "reason": "nobody available for PL, enterprise"}
    assert assignment_words(POLISH, older)["reason"] == older["reason"]


def test_a_polish_reader_gets_the_next_step_the_deadline_and_the_score_in_polish():
    snapshot = sample_handoff()
    snapshot["sla"] = {
        "deadline": "by Tue 1 Dec, 11:05 (America/Los_Angeles time; 1 business hour)",
        "due_at": "2026-12-01T19:05:00Z",
        "policy": "1 business hour",
        "timezone": "America/Los_Angeles",
    }
    snapshot["why"]["score"]["value"] = 88.7

    shown = present(snapshot, SAMPLE_NOW, POLISH, details_url="")

    assert shown["next_step"]["action"] == (
        "Zadzwoń, aby umówić demo, i bądź gotów rozmawiać o cenach"
    )
    assert shown["sla"]["deadline"] == (
        "do wt., 1 gru, 11:05 (czas America/Los_Angeles; 1 godzina robocza)"
    )
    assert shown["score_text"] == "88,7"
    assert "Zaangażowanie 88,7" in " ".join(shown["why_now"])
    # The stored snapshot keeps its English facts (the API returns them as they were).
    assert snapshot["next_step"]["action"].startswith("Call to book the demo")


def test_a_snapshot_without_the_owners_timezone_keeps_its_deadline_text():
    snapshot = sample_handoff()
    snapshot["sla"] = {"deadline": "as soon as you can", "due_at": None}

    assert present(snapshot, SAMPLE_NOW, POLISH, details_url="")["sla"]["deadline"] == (
        "jak najszybciej"
    )

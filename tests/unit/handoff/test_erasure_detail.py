"""What an erased person's handoff log keeps of each entry's detail (pure)."""

from __future__ import annotations

from nurture.handoff.erasure import anonymised_detail


def test_a_rejection_keeps_its_reason_code_and_loses_the_note():
    detail = {
        "reason": "no-budget",
        "label": "No budget",
        "note": "Ada: no money",
        "stage": "recycled",
    }
    assert anonymised_detail("rejected", detail) == {
        "reason": "no-budget",
        "label": "No budget",
        "stage": "recycled",
    }


def test_a_reason_written_by_someone_is_dropped_elsewhere():
    assert anonymised_detail(
        "converted", {"outcome": "lost", "reason": "Ada left", "value": None}
    ) == {
        "outcome": "lost",
        "value": None,
    }
    assert anonymised_detail("reassigned", {"to": "b@s.example", "reason": "speaks German"}) == {
        "to": "b@s.example"
    }
    assert anonymised_detail("created", {"rule": "hot", "reasons": ["Ada visited pricing"]}) == {
        "rule": "hot"
    }


def test_unknown_keys_are_dropped_and_nothing_is_nothing():
    assert anonymised_detail("notified", {"to": "ann@s.example", "as": "owner", "extra": "x"}) == {
        "to": "ann@s.example",
        "as": "owner",
    }
    assert anonymised_detail("accepted", None) == {}

"""Erasing a person changes no figure of a period (docs/analytics.md, "Erased leads"): their
stage changes and their handoffs are kept without what identified them. Only a grouping by
the lead's own ``source`` moves them, to "none": that field is erased with the identity."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from nurture.analytics import cohort_report, funnel_report, parse_filter, velocity_report
from nurture.analytics.filters import VELOCITY_GROUP_BY
from nurture.models import Handoff, HandoffAction
from nurture.platform.db import transaction
from nurture.privacy import erase_lead
from tests.integration.analytics.analytics_support import tell_story
from tests.integration.analytics.velocity_support import tell_velocity_story

TODAY = date(2026, 4, 15)
# Every grouping whose value does not come from the erased lead's own fields.
GROUPINGS = (None, "month", "owner", "campaign", "grade", "segment")


def figures(runtime) -> dict[str, object]:  # type: ignore[no-untyped-def]
    found: dict[str, object] = {}
    with runtime.sessions() as session:
        for by in GROUPINGS:
            report = parse_filter(
                today=TODAY, start="2026-01-01", end="2026-04-01", group_by=by,
                groupings=VELOCITY_GROUP_BY,
            )  # fmt: skip
            found[f"funnel/{by}"] = funnel_report(session, report).as_dict()
            found[f"cohorts/{by}"] = cohort_report(session, report).as_dict()
            found[f"velocity/{by}"] = velocity_report(session, report).as_dict()
    return found


def erase(runtime, email: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        erase_lead(
            session, email, now=datetime(2026, 4, 2, tzinfo=UTC), actor="test",
            instance_path=runtime.settings.instance_path,
        )  # fmt: skip


def handoff_text(runtime, lead_id: int) -> str:  # type: ignore[no-untyped-def]
    """Everything kept of the lead's handoffs and their logs, as one text to search."""
    with runtime.sessions() as session:
        handoffs = session.scalars(select(Handoff).where(Handoff.lead_id == lead_id)).all()
        assert handoffs
        ids = [h.id for h in handoffs]
        rows = [{c.name: getattr(h, c.name) for c in Handoff.__table__.columns} for h in handoffs]
        details = session.scalars(
            select(HandoffAction.detail).where(HandoffAction.handoff_id.in_(ids))
        ).all()
    return json.dumps({"handoffs": rows, "log": details}, default=str)


@pytest.mark.parametrize("person", ["V2", "V3"])
def test_erasing_a_rejected_or_reassigned_lead_changes_no_velocity_or_funnel_figure(
    runtime, tmp_path, person
):
    # V2: rejected, recycled, offered again; V3: reassigned, then won.
    story = tell_velocity_story(runtime, tmp_path)
    before = figures(runtime)
    erase(runtime, f"{person.lower()}@" + {"V2": "two", "V3": "drei"}[person] + ".example")
    assert figures(runtime) == before
    kept = handoff_text(runtime, story.leads[person])
    assert person.lower() + "@" not in kept and '"snapshot": {}' in kept


def test_erasing_a_lost_deal_keeps_its_loss_without_the_reps_words(runtime, tmp_path):
    # L2 lost its deal "no budget" on Feb 10 (analytics_support); L4 is erased by the story.
    story = tell_story(runtime, tmp_path)
    before = figures(runtime)
    erase(runtime, "l2@big.example")
    assert figures(runtime) == before
    kept = handoff_text(runtime, story.leads["L2"])
    assert "l2@big" not in kept and "no budget" not in kept
    assert '"outcome": "lost"' in kept and '"lost_reason": null' in kept

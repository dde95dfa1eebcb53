"""Which triggers still admit a lead when it changes (pure)."""

from datetime import UTC, datetime, timedelta

from nurture.campaigns.reevaluation import standing_entry
from nurture.campaigns.spec import Trigger

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
AFTER = SINCE + timedelta(days=1)
BEFORE = SINCE - timedelta(days=1)


def entry(triggers, *, created=AFTER, stage="subscriber", stage_at=AFTER):
    return standing_entry(
        triggers,
        lead_created_at=created,
        lead_stage=stage,
        stage_changed_at=stage_at,
        campaign_since=SINCE,
    )


def test_creation_stands_for_leads_created_since_the_campaign_started():
    assert entry([Trigger("lead_created")]) == "lead_created"
    assert entry([Trigger("lead_created")], created=BEFORE) is None


def test_a_stage_stands_while_the_lead_is_still_in_it():
    recycled = Trigger("stage_changed", stages=frozenset({"recycled"}))
    assert entry([recycled], stage="recycled") == "stage_changed"
    assert entry([recycled], stage="lead") is None
    assert entry([recycled], stage="recycled", stage_at=BEFORE) is None
    assert entry([Trigger("stage_changed")], stage="recycled") is None


def test_events_and_attribute_changes_are_moments_not_states():
    assert entry([Trigger("event", event_type="demo.requested")]) is None
    assert entry([Trigger("attribute_changed", attribute="title")]) is None
    assert entry([]) is None

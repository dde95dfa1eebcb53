"""Each lead's first human touch (``lead_first_touches``) follows every writer of events (a
batch insert in any order, the hit processor, a visitor's history moved onto its lead, a
click re-flagged as a scanner's, a deleted event, an erasure, a deleted lead), equals a
full recomputation from the events, is filled by its migration from the events already
recorded, and is checked and rebuilt by ``nurture db rebuild-rollups``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from nurture.analytics import first_touches
from nurture.analytics.first_touches import TOUCH_TYPES
from nurture.models import Event, Lead, LeadFirstTouch
from nurture.platform.db import transaction, utcnow
from nurture.privacy import erase_lead
from nurture.tracking.visitors import identify
from tests.integration.analytics.rollup_support import rows
from tests.integration.engine_support import add_lead
from tests.integration.tracking_support import CHROME, process, send_message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def event(lead_id: int | None, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "type": kind,
        "occurred_at": at,
        "recorded_at": at,
        "is_machine": fields.pop("is_machine", False),
        "machine_reasons": [],
        "properties": {},
        **fields,
    }


def write(runtime, *events: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """The events in one multi-row INSERT (as the hit processor writes its batch)."""
    with transaction(runtime.sessions) as session:
        session.execute(insert(Event), list(events))


def touches(runtime) -> dict[int, datetime]:  # type: ignore[no-untyped-def]
    return dict(rows(runtime, first_touches.stored_touches()))


def assert_exact(runtime) -> None:  # type: ignore[no-untyped-def]
    """The table is its recomputation from the events."""
    assert rows(runtime, first_touches.stored_touches()) == rows(
        runtime, first_touches.recomputed_touches()
    )
    with runtime.sessions() as session:
        assert first_touches.count_differences(session) == 0


@pytest.fixture
def history(runtime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Leads with a mixed history, written in batches whose events are out of order:

    - ``touched``: a machine open on day 1 and an email sent on day 0 (not touches), a page
      view on day 5, then in a later batch a custom event on day 3 (earlier: it moves);
    - ``late``: a form on day 2, then a webinar on day 9 (later: it does not move);
    - ``quiet``: only machine hits and what was done to it (no row);
    - ``visitor``: created on day 20; its anonymous pages of days 4 and 6 join it.
    """
    leads = {
        name: add_lead(runtime, f"{name}@example.com", created_at=day(0))
        for name in ("touched", "late", "quiet")
    }
    leads["visitor"] = add_lead(runtime, "visitor@example.com", created_at=day(20))
    write(
        runtime,
        event(leads["touched"], "page.viewed", day(5)),
        event(leads["touched"], "email.opened", day(1), is_machine=True),
        event(leads["touched"], "email.sent", day(0)),
        event(leads["late"], "form.submitted", day(2)),
        event(leads["quiet"], "email.clicked", day(1), is_machine=True),
        event(leads["quiet"], "stage.changed", day(1)),
        event(None, "page.viewed", day(6), anonymous_id="visitor-1234"),
        event(None, "page.viewed", day(4), anonymous_id="visitor-1234"),
    )
    write(
        runtime,
        event(leads["late"], "webinar.attended", day(9)),
        event(leads["touched"], "custom.contract_signed", day(3)),
    )
    with transaction(runtime.sessions) as session:
        identify(session, "visitor-1234", leads["visitor"], utcnow())
    return leads


def test_each_lead_keeps_its_earliest_human_touch_whatever_order_the_events_came_in(
    runtime, history
):
    assert touches(runtime) == {
        history["touched"]: day(3),
        history["late"]: day(2),
        history["visitor"]: day(4),  # before its creation: the merged visitor's pages
    }
    assert_exact(runtime)


def test_every_touch_type_and_custom_events_count_and_nothing_else_does(runtime):
    kinds = [*TOUCH_TYPES, "custom.video_watched"]
    leads = {kind: add_lead(runtime, f"{kind}@example.com", created_at=day(0)) for kind in kinds}
    others = ["email.sent", "email.bounced", "email.unsubscribed", "lead.created", "fit.changed"]
    other = add_lead(runtime, "other@example.com", created_at=day(0))
    write(
        runtime,
        *(event(lead, kind, day(1)) for kind, lead in leads.items()),
        *(event(other, kind, day(1)) for kind in others),
    )
    assert touches(runtime) == {lead: day(1) for lead in leads.values()}
    assert_exact(runtime)


def test_a_touch_that_loses_its_standing_gives_way_to_the_next_one(runtime, history):
    lead = history["touched"]
    with transaction(runtime.sessions) as session:
        # The custom event of day 3 turns out to be a machine's, then moves to another lead.
        session.execute(
            update(Event)
            .where(Event.lead_id == lead, Event.type == "custom.contract_signed")
            .values(is_machine=True)
        )
    assert touches(runtime)[lead] == day(5)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Event)
            .where(Event.lead_id == lead, Event.type == "page.viewed")
            .values(lead_id=history["late"], occurred_at=day(1))
        )
    assert lead not in touches(runtime)  # nothing a person did is left
    assert touches(runtime)[history["late"]] == day(1)
    with transaction(runtime.sessions) as session:
        session.execute(
            delete(Event).where(Event.lead_id == history["late"], Event.occurred_at == day(1))
        )
    assert touches(runtime)[history["late"]] == day(2)
    assert_exact(runtime)


def test_clicks_the_processor_re_flags_as_a_scanners_are_no_longer_touches(client, runtime):
    sent = send_message(runtime)
    headers = {"User-Agent": CHROME}
    client.get(sent.clicks[0], headers=headers)
    client.get(sent.clicks[1], headers=headers)
    process(runtime)  # two clicks that look human on their own
    assert sent.lead_id in touches(runtime)
    client.get(sent.clicks[2], headers=headers)  # every link within seconds: a scanner
    process(runtime)
    assert sent.lead_id not in touches(runtime)
    client.get(sent.pixel, headers=headers)
    process(runtime)
    with runtime.sessions() as session:
        opened = session.scalar(select(Event.occurred_at).where(Event.type == "email.opened"))
    assert touches(runtime) == {sent.lead_id: opened}
    assert_exact(runtime)


def test_erasure_keeps_the_first_touch_and_a_deleted_lead_takes_it_away(runtime, history):
    with transaction(runtime.sessions) as session:
        erase_lead(
            session, "touched@example.com", now=day(30), actor="test",
            instance_path=runtime.settings.instance_path,
        )  # fmt: skip
    assert touches(runtime)[history["touched"]] == day(3)
    with transaction(runtime.sessions) as session:
        session.execute(delete(Lead).where(Lead.id == history["late"]))
    assert set(touches(runtime)) == {history["touched"], history["visitor"]}
    assert_exact(runtime)


def test_the_migration_fills_the_table_from_events_already_recorded(
    runtime, history, migrate_again
):
    before = touches(runtime)
    migrate_again("9840")
    assert touches(runtime) == before
    # The triggers came back with the table: an earlier touch moves the row.
    write(runtime, event(history["late"], "email.opened", day(1)))
    assert touches(runtime)[history["late"]] == day(1)


def test_the_rebuild_command_puts_a_damaged_table_right(runtime, history, db_command):
    right = touches(runtime)
    with transaction(runtime.sessions) as session:
        session.execute(delete(LeadFirstTouch).where(LeadFirstTouch.lead_id == history["late"]))
        session.execute(
            update(LeadFirstTouch)
            .where(LeadFirstTouch.lead_id == history["touched"])
            .values(touched_at=day(9))
        )
    checked = db_command("rebuild-rollups", "--check")
    assert checked.exit_code == 1
    # One row missing (1, on the events' side), one with another time (1 + 1).
    assert "lead_first_touches: 3 rows differ" in checked.output

    rebuilt = db_command("rebuild-rollups")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "lead_first_touches: 3 rows recomputed from the events (3 differed before)" in (
        rebuilt.output
    )
    assert touches(runtime) == right
    assert "lead_first_touches: 0 rows differ" in db_command("rebuild-rollups", "--check").output

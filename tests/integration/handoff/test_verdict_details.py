"""What the sales pages added to the verdicts: a lost deal keeps why (use case, CLI and
API), and a handoff is never reassigned to a rep who cannot take leads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nurture.cli import cli
from nurture.handoff import HandoffError, accept, convert, reassign
from nurture.handoff.reps import find_rep
from nurture.platform.db import transaction
from tests.integration.engine_support import T0
from tests.integration.sales_support import (
    ANN,
    BEN,
    CARL,
    hand_off_to,
    handoff,
    lead_of,
    log_actions,
    sync_sales_team,
)


@pytest.fixture
def team(runtime, tmp_path):  # type: ignore[no-untyped-def]
    sync_sales_team(runtime, tmp_path, T0)


def test_a_lost_deal_keeps_its_reason_and_other_outcomes_ignore_one(runtime, team):
    lost = hand_off_to(runtime, ANN, "ada@acme.example", T0)
    won = hand_off_to(runtime, ANN, "al@alpha.example", T0)
    with transaction(runtime.sessions) as session:
        ann = find_rep(session, ANN)
        for handoff_id in (lost, won):
            accept(session, handoff_id, rep=ann, now=T0 + timedelta(minutes=5))
        convert(
            session,
            lost,
            outcome="lost",
            reason="  Chose a competitor  ",
            rep=ann,
            now=T0 + timedelta(days=3),
        )
        convert(session, won, outcome="won", value="100", reason="ignored", rep=ann, now=T0)

    assert handoff(runtime, lost).lost_reason == "Chose a competitor"
    assert handoff(runtime, won).lost_reason is None
    assert lead_of(runtime, lost).stage == "recycled"


def test_reassigning_to_an_inactive_or_departed_rep_is_refused_and_changes_nothing(
    runtime, team, tmp_path
):
    handoff_id = hand_off_to(runtime, ANN, "ada@acme.example", T0)
    before = log_actions(runtime, handoff_id)
    with pytest.raises(HandoffError) as refused, transaction(runtime.sessions) as session:
        reassign(session, handoff_id, to=find_rep(session, CARL), reason="", actor="t", now=T0)
    assert refused.value.code == "rep_unavailable"
    assert "Carl Cole" in refused.value.message and "inactive" in refused.value.message
    assert handoff(runtime, handoff_id).status == "offered"
    assert log_actions(runtime, handoff_id) == before

    with transaction(runtime.sessions) as session:
        new = reassign(session, handoff_id, to=find_rep(session, BEN), reason="", actor="t", now=T0)
        assert new.rep_id == find_rep(session, BEN).id


def test_the_cli_records_why_a_deal_was_lost_and_shows_it(runtime, app, team):
    handoff_id = hand_off_to(runtime, ANN, "ada@acme.example", T0)
    runner = app.test_cli_runner()

    done = runner.invoke(
        cli,
        ["handoffs", "convert", str(handoff_id), "--outcome", "lost", "--reason", "Price"],
    )

    assert done.exit_code == 0, done.output
    assert handoff(runtime, handoff_id).lost_reason == "Price"
    shown = runner.invoke(cli, ["handoffs", "show", str(handoff_id)])
    assert "outcome    lost (Price)" in shown.output

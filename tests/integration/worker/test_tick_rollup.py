"""``nurture tick`` keeps the campaign results' roll-up as the worker's job does: an
instance run from cron leaves nothing queued for its reports to read the emails for."""

from __future__ import annotations

from sqlalchemy import func, select

from nurture.cli import (
    cli,
    worker_cmd,  # noqa: F401  (registers the commands)
)
from nurture.models import CampaignEmailDay, EmailRollupQueue
from tests.integration.engine_support import T0, add_lead, enrol, sync_fixture_campaigns


def test_a_bare_tick_rolls_up_what_it_sent(app, runtime):  # type: ignore[no-untyped-def]
    sync_fixture_campaigns(runtime)
    enrol(runtime, add_lead(runtime, "rolled@acme.example"))

    result = app.test_cli_runner().invoke(cli, ["tick", "--now", T0.isoformat()])

    assert result.exit_code == 0, result.output
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EmailRollupQueue)) == 0
        assert session.scalar(select(func.sum(CampaignEmailDay.sent))) == 1

"""A team's event types file, as a user meets it: `nurture campaigns validate`, the events
API and the worker's file sync all hold campaign files and events to the declared types."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from nurture.auth.apikeys import create_api_key
from nurture.campaigns.services import CampaignWatcher
from nurture.cli import cli
from nurture.models import Campaign
from nurture.platform.db import transaction
from tests.integration.campaigns.test_event_vocabulary import bundled_with_goal, goal_line
from tests.integration.engine_support import T0

EVENTS = """\
types:
  custom.contract_signed:
    description: The contract was signed in the CRM
    properties: [plan, seats]
"""


@pytest.fixture
def settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS)
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    return settings.with_overrides(
        events_file=events,
        campaigns_path=campaigns,
        company_name="Brightpath Analytics",
        postal_address="Brightpath Analytics, 1 Test Street, Springfield",
    )


def test_validate_refuses_an_undeclared_custom_goal_and_shows_the_files_own_problems(app, settings):
    path = bundled_with_goal(settings.campaigns_path, "custom.contract_signd")
    settings.events_file.write_text(EVENTS + "  webinar_booked:\n    description: no prefix\n")

    result = app.test_cli_runner().invoke(cli, ["campaigns", "validate", str(path)])

    assert result.exit_code == 1, result.output
    assert (
        f"{path}:{goal_line(path)}: unknown event type 'custom.contract_signd' (did you mean "
        f"'custom.contract_signed'?): declare it in {settings.events_file}"
    ) in result.output
    assert f"{settings.events_file}:5: 'webinar_booked' is not a custom type name" in (
        result.output
    )


def test_the_events_api_answers_422_for_an_undeclared_type_or_property(app, client):
    runtime = app.extensions["nurture"]
    with transaction(runtime.sessions) as session:
        _key, api_key = create_api_key(session, "tests", now=T0)
    auth = {"Authorization": f"Bearer {api_key}"}

    def post(kind: str, **properties: object):  # type: ignore[no-untyped-def]
        body = {"type": kind, "email": "ada@acme.example", "properties": properties}
        return client.post("/api/v1/events", json=body, headers=auth)

    typo = post("custom.contract_signd")
    assert typo.status_code == 422
    assert "custom.contract_signd is not declared" in typo.json["errors"]["type"]
    extra = post("custom.contract_signed", plan="pro", seatz=3)
    assert extra.status_code == 422
    assert extra.json["errors"]["properties"] == (
        "custom.contract_signed carries only plan, seats; not seatz"
    )
    good = post("custom.contract_signed", plan="pro", seats=3)
    assert good.status_code == 202, good.json


def test_declaring_a_type_makes_the_worker_sync_the_campaign_that_named_it(runtime, settings):
    bundled_with_goal(settings.campaigns_path, "custom.webinar_booked")
    watcher = CampaignWatcher(runtime, on_report=lambda report: None)

    [failed] = watcher.sync_if_changed(T0)
    assert not failed.ok
    assert watcher.sync_if_changed(T0) == []  # nothing changed: not synced again

    settings.events_file.write_text(
        EVENTS + "  custom.webinar_booked:\n    description: A webinar seat was booked\n"
    )
    stat = settings.events_file.stat()
    os.utime(settings.events_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    [synced] = watcher.sync_if_changed(T0)

    assert synced.ok, synced.lines()
    with runtime.sessions() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == "b2b-nurture"))
    assert campaign is not None and campaign.status == "active"

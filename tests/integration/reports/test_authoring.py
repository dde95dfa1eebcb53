"""The editor's figures: files on disk with their problems, and the versions that run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nurture.campaigns.services import sync_campaign_files
from nurture.platform.config import Settings
from nurture.platform.db import transaction
from nurture.rendering.library import TemplateLibrary
from nurture.reports.authoring import authoring_index, version_history
from nurture.scoring.watch import sync_scoring_file
from tests.integration.web.authoring_support import editable_settings

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return editable_settings(settings, tmp_path / "files")


def test_every_file_is_listed_with_its_problems_and_live_version(runtime, settings) -> None:
    sync_campaign_files(runtime, now=NOW)
    recycle = settings.campaigns_path / "recycle.yaml"
    recycle.write_text(
        recycle.read_text()
        .replace("send: recycle-whats-new", "send: nope")
        .replace("name: Recycled leads", "name: Recycled")
    )
    sync_campaign_files(runtime, now=NOW)  # fails: version 1 stays live, the error is noted
    (settings.templates_path / "welcome-guide" / "subject.txt").write_text("Hi {{ lead.nam }}\n")
    settings.icp_file.unlink()
    sync_scoring_file(runtime, now=NOW)
    library = TemplateLibrary(settings.templates_path)

    with transaction(runtime.sessions) as session:
        index = authoring_index(session, settings, library)

    campaigns = {row.file.name: row for row in index.campaigns}
    assert sorted(campaigns) == ["b2b-nurture", "recycle"]
    assert campaigns["recycle"].file.problems == 1
    assert campaigns["recycle"].live is not None
    assert campaigns["recycle"].live.number == 1
    assert campaigns["recycle"].live.since == NOW
    assert "unknown template 'nope'" in (campaigns["recycle"].live.last_error or "")
    # b2b-nurture sends welcome-guide, whose subject no longer renders.
    assert campaigns["b2b-nurture"].file.problems == 1
    templates = {row.file.name: row.file for row in index.templates}
    # Every template folder of the copied library is listed (layouts and partials aside).
    assert set(templates) == set(TemplateLibrary(settings.templates_path).names())
    assert templates["welcome-guide"].problems == 1
    assert sum(1 for state in templates.values() if state.problems) == 1
    configs = {row.file.kind: row for row in index.configs}
    assert list(configs) == ["scoring", "icp", "readiness", "team"]
    assert configs["icp"].file.exists is False
    assert configs["scoring"].live is not None and configs["scoring"].live.number == 1
    assert configs["team"].live is None  # never synced
    # recycle, b2b-nurture, welcome-guide, and the missing ICP file.
    assert index.problem_files == 4


def test_the_version_history_of_a_campaign_and_a_file(runtime, settings) -> None:
    sync_campaign_files(runtime, now=NOW)
    recycle = settings.campaigns_path / "recycle.yaml"
    original = recycle.read_text()
    recycle.write_text(original + "# second\n")
    sync_campaign_files(runtime, now=NOW)
    recycle.write_text(original)  # back to the first text: version 1 is live again
    sync_campaign_files(runtime, now=NOW)
    sync_scoring_file(runtime, now=NOW)

    with transaction(runtime.sessions) as session:
        campaign = version_history(session, "campaign", "recycle")
        scoring = version_history(session, "scoring", "scoring")
        nothing = version_history(session, "campaign", "no-such-campaign")
        templates = version_history(session, "template", "welcome-guide")

    assert [(v.number, v.active) for v in campaign] == [(2, False), (1, True)]
    assert [(v.number, v.active, v.created_at) for v in scoring] == [(1, True, NOW)]
    assert nothing == []
    assert templates == []

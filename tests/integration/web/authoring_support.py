"""Helpers for the editor's tests: a copy of the bundled campaign, scoring, ICP, readiness,
team and template files that a test may change."""

from __future__ import annotations

import shutil
from pathlib import Path

from nurture.platform.config import PROJECT_ROOT, Settings


def editable_settings(settings: Settings, folder: Path) -> Settings:
    """``settings`` pointed at copies (in ``folder``) of the bundled marketer files."""
    campaigns = folder / "campaigns"
    shutil.copytree(PROJECT_ROOT / "campaigns", campaigns)
    templates = folder / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    return settings.with_overrides(
        campaigns_path=campaigns / "examples",
        templates_path=templates,
        scoring_file=campaigns / "scoring.yaml",
        icp_file=campaigns / "icp.yaml",
        readiness_file=campaigns / "readiness.yaml",
        sales_team_file=campaigns / "sales-team.yaml",
    )

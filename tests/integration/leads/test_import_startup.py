"""``nurture leads import`` imports what an import runs and no more: not the web app, not
the worker's command, so a file's first batch does not wait for them."""

from __future__ import annotations

import os

from sqlalchemy import func, select

from nurture.models import Lead
from nurture.platform.db import transaction
from tests.imports_support import edges, run_nurture_fresh


def test_an_import_runs_without_the_web_app_or_unrelated_commands(settings, runtime, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("email,first_name\nada@example.com,Ada\ngrace@example.com,Grace\n")
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_INSTANCE_PATH": str(settings.instance_path),
        "NURTURE_SECRET_KEY": settings.secret_key,
    }

    result, modules = run_nurture_fresh("leads", "import", str(path), "--no-progress", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    # The leads group with the modules that add its other subcommands (list, show, export,
    # erase, stages), each a few milliseconds: no web app, no worker.
    assert edges(modules) == {
        "nurture.cli.leads_cmd",
        "nurture.cli.lead_show_cmd",
        "nurture.cli.privacy_cmd",
        "nurture.cli.qualification_cmd",
    }
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 2

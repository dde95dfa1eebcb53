"""The templates guide names the campaign step field a template is sent by as the campaign
parser knows it (a reader copying ``template:`` into a step gets a validation error)."""

from __future__ import annotations

import re
from pathlib import Path

from nurture.campaigns.vocabulary import STEP_FIELDS

ROOT = Path(__file__).resolve().parents[3]


def test_the_templates_guide_names_the_step_field_that_sends_a_template():
    guide = (ROOT / "docs" / "templates.md").read_text()
    named = re.findall(r"`(\w+): warm-case-study`", guide)

    assert named, "docs/templates.md no longer shows how a step names its template"
    assert set(named) <= set(STEP_FIELDS["send"]) - {"id"}

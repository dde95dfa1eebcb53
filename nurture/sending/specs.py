"""The campaign specs the send engine has loaded, by version, and the facts each needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from nurture.campaigns.facts import Needs, campaign_needs
from nurture.campaigns.spec import Campaign as CampaignSpec
from nurture.campaigns.sync import campaign_spec_for_version


@dataclass
class SpecCache:
    """Specs by campaign version id; a version never changes once stored, so they are kept
    for the engine's lifetime."""

    by_version: dict[int, CampaignSpec] = field(default_factory=dict)
    needs: dict[int, Needs] = field(default_factory=dict)

    def spec(self, session: Session, version_id: int) -> CampaignSpec:
        """The spec of campaign version ``version_id``, loaded on first use."""
        spec = self.by_version.get(version_id)
        if spec is None:
            spec = campaign_spec_for_version(session, version_id)
            self.by_version[version_id] = spec
            self.needs[version_id] = campaign_needs(spec)
        return spec

"""Everything about one lead's engagement, for ``nurture leads show`` and the JSON API:
profile, score explained under the active model, temperature, and the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.leads.queries import get_lead
from nurture.models import Lead
from nurture.scoring.service import LeadScore, lead_score
from nurture.scoring.timeline import TimelineEntry, lead_timeline
from nurture.scoring.versions import active_model


@dataclass(frozen=True)
class LeadReport:
    """One lead's engagement at ``now``."""

    lead_id: int
    now: datetime
    profile: dict[str, Any]
    temperature: str
    stored_score: float
    score: LeadScore | None
    bands: tuple[float, float]
    timeline: list[TimelineEntry]
    stale_note: str | None = None

    def score_dict(self) -> dict[str, Any]:
        """The score and its explanation as plain data (``score`` is null before a sync)."""
        if self.score is None:
            return {
                "lead_id": self.lead_id,
                "score": round(self.stored_score, 2),
                "temperature": self.temperature,
                "model": None,
                "rules": [],
            }
        return {
            "lead_id": self.lead_id,
            **self.score.explanation.as_dict(),
            # The stored band: it changes only when the lead is rescored or cools.
            "temperature": self.temperature,
            "bands": {"warm": self.bands[0], "hot": self.bands[1]},
            "model": {"name": self.score.model_name, "version": self.score.version},
            "hand_raised_at": _iso(self.score.hand_raised_at),
            "note": self.stale_note,
        }

    def timeline_dicts(self) -> list[dict[str, Any]]:
        """The timeline entries as plain data, newest first."""
        return [entry.as_dict() for entry in self.timeline]

    def as_dict(self) -> dict[str, Any]:
        """The whole report as plain data."""
        return {
            "lead": self.profile,
            "score": self.score_dict(),
            "timeline": self.timeline_dicts(),
        }


def lead_report(
    session: Session, ref: str, now: datetime, *, events: int = 50
) -> LeadReport | None:
    """The report of the lead with id or email ``ref`` (None when there is none)."""
    lead = get_lead(session, ref)
    if lead is None:
        return None
    score = lead_score(session, lead, now)
    active = active_model(session)
    bands = (active.model.bands.warm, active.model.bands.hot) if active else (0.0, 0.0)
    note = None
    if active is not None and lead.score_version_id != active.version_id:
        # The explanation is computed with the active model; the stored score may differ
        # until the lead's next event or `nurture scoring rescore`.
        note = (
            f"stored score {lead.decayed_score(now):.1f} comes from another model version; "
            "it is updated at the lead's next event or by `nurture scoring rescore`"
        )
    timeline = lead_timeline(
        session, lead.id, limit=events, explanation=score.explanation if score else None
    )
    return LeadReport(
        lead_id=lead.id,
        now=now,
        profile=_profile(lead),
        temperature=lead.temperature,
        stored_score=lead.decayed_score(now),
        score=score,
        bands=bands,
        timeline=timeline,
        stale_note=note,
    )


def _profile(lead: Lead) -> dict[str, Any]:
    account = lead.account
    return {
        "id": lead.id,
        "email": lead.email,
        "name": lead.full_name,
        "title": lead.title,
        "account": (account.name or account.domain) if account is not None else None,
        "stage": lead.stage,
        "consent": lead.consent_status + (f" ({lead.lawful_basis})" if lead.lawful_basis else ""),
        "timezone": lead.timezone,
        "source": lead.source,
        "created_at": _iso(lead.created_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")

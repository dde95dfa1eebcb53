"""Behavioural scoring: a versioned model in a file, pure rules, and the use cases around it.

- ``model``, ``parser``, ``rules``, ``state``: pure (the file format, rule evaluation,
  explanation, decay crossings, the score state new events are folded into); no session,
  no clock.
- ``incremental``: a lead's score from its stored state and the events added since, or
  from every event when the state cannot be extended.
- ``versions``: the scoring file synced into ``scoring_versions``, the active model.
- ``service``: ``rescore_leads`` (run for the ``timelines_changed`` event tracking sends
  after recording events; ``subscriptions`` connects it), cooling temperatures as scores
  decay, rescoring everyone, explaining a lead's score.
- ``timeline``: a lead's events for people and for the API.
"""

from nurture.scoring.model import EventFacts, ScoringModel, is_hand_raiser
from nurture.scoring.rules import Explanation, evaluate, explain
from nurture.scoring.service import (
    ScoreChange,
    cool_temperatures,
    event_is_hand_raiser,
    lead_score,
    rescore_everyone,
    rescore_leads,
)
from nurture.scoring.versions import active_model, sync_scoring

__all__ = [
    "EventFacts",
    "Explanation",
    "ScoreChange",
    "ScoringModel",
    "active_model",
    "cool_temperatures",
    "evaluate",
    "event_is_hand_raiser",
    "explain",
    "is_hand_raiser",
    "lead_score",
    "rescore_everyone",
    "rescore_leads",
    "sync_scoring",
]

"""The tracking core: what the public edge (the root ``tracking`` package) captures, turned
into timeline events.

- ``tokens``: each message's random token and its signed public URLs; ``links``: signed
  click URLs, UTM parameters and the honeypot link written into rendered emails.
- ``capture``: the one durable INSERT a tracking request does (``hit_writer``).
- ``machine_rules``: is a hit a person or a machine, and why (pure).
- ``processing``: raw hits into events in batches (``HitProcessor``), which sends
  ``timelines_changed`` for scoring; ``processor``: that work in its own process.
- ``visitors``: first-party visitor ids, and merging a visitor's history into its lead.
- ``event_intake``: server-side events (``POST /api/v1/events``) checked (pure).
- ``engagement``: what a person did with each email, kept on its message row
  (``note_engagement``, ``refresh_engagement``) for the period figures.
"""

from nurture.tracking.capture import hit_writer
from nurture.tracking.engagement import (
    ENGAGEMENT_EVENTS,
    backfill_engagement,
    note_engagement,
    refresh_engagement,
)
from nurture.tracking.hit_rows import hit_row
from nurture.tracking.processing import HitProcessor, process_pending_hits

__all__ = [
    "ENGAGEMENT_EVENTS",
    "HitProcessor",
    "backfill_engagement",
    "hit_row",
    "hit_writer",
    "note_engagement",
    "process_pending_hits",
    "refresh_engagement",
]

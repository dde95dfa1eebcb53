"""Consent: who may be mailed, who must never be mailed again, and the record of both.

- ``rules``: whether a lead may receive campaign email, and a topic (pure).
- ``suppression``: the suppression list (peppered hashes), suppressing and lifting; a
  suppressed lead's enrolments stop through the ``lead_changed`` event.
- ``audit``: every consent and suppression change, in the caller's transaction.
"""

from nurture.consent.rules import is_mailable, wants_topic
from nurture.consent.suppression import is_suppressed, lift, suppress

__all__ = ["is_mailable", "is_suppressed", "lift", "suppress", "wants_topic"]

"""The sales handoff: a qualified lead becomes an MQL, gets an owner, and the owner gets
everything needed to continue the conversation; sales' verdict comes back.

- ``team``, ``team_parser`` (with ``team_fields`` and ``team_assignment``): the sales team
  file (pure), ``team_sync``: versions and reps.
- ``assignment``: who gets the lead (pure); ``committee``, ``next_step``: pure helpers of
  the notification; ``context``: the notification's content; ``mail``: its emails.
- ``service``: ``hand_off``; ``verdicts``: sales' ``accept``, ``reject``, ``convert`` and
  ``reassign``; ``reps``: the reps' open handoffs and the owner's choice; ``lookup``: finding
  a handoff (by id, by lead, by signed link); ``trail``: its log and the lead's timeline;
  ``reports``: listings and the reject reasons report.

The readiness evaluator calls ``hand_off(session, lead, qualification, now)``.
"""

from nurture.handoff.lookup import open_handoff
from nurture.handoff.model import HandoffError, Qualification
from nurture.handoff.service import hand_off
from nurture.handoff.verdicts import accept, convert, reassign, reject

__all__ = [
    "HandoffError",
    "Qualification",
    "accept",
    "convert",
    "hand_off",
    "open_handoff",
    "reassign",
    "reject",
]

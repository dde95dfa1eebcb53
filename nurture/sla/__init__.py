"""The handoff SLA: a deadline in the owner's working hours, a reminder before it, an
escalation after it (the manager told, and/or the lead given to the next available rep),
and compliance recorded per handoff.

- ``policy``: the rules (pure); ``nurture.business_hours``: the arithmetic (pure).
- ``service``: ``start`` and ``respond`` (called as handoff actions happen), ``run_due``
  (the worker tick: reminders and escalations), ``compliance_report``.
- ``mail``: what the reminder and escalation templates see.
"""

from nurture.sla.policy import SlaPolicy
from nurture.sla.service import run_due, start

__all__ = ["SlaPolicy", "run_due", "start"]

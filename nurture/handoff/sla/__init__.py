"""The handoff SLA: a deadline in the owner's working hours, a reminder before it, an
escalation after it (the manager told, and/or the lead given to the next available rep),
and compliance recorded per handoff.

- ``policy``: the rules (pure); ``nurture.handoff.sla.business_hours``: the arithmetic (pure).
- ``service``: ``start`` and ``respond`` (called as handoff actions happen), ``run_due``
  (the worker tick: reminders and escalations), ``compliance_report``.
- ``mail``: what the reminder and escalation templates see.
"""

from nurture.handoff.sla.service import run_due, start
from nurture.platform.policies import SlaPolicy

__all__ = ["SlaPolicy", "run_due", "start"]

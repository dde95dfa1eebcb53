"""Signed outgoing webhooks: every handoff event (created, accepted, rejected, converted,
reassigned, SLA breached) POSTed as JSON to the configured endpoints, with an HMAC-SHA256
signature, retries with backoff and a delivery log.

- ``signing``: the signature header, and how a receiver verifies it (pure).
- ``payload``: the JSON body of one event.
- ``service``: ``enqueue`` (in the handoff's transaction), ``deliver_due`` (the worker,
  after the commit), ``retry``, ``list_deliveries``.
"""

from nurture.handoff.webhooks.service import deliver_due, enqueue, list_deliveries, retry

__all__ = ["deliver_due", "enqueue", "list_deliveries", "retry"]

"""Sending: the engine that turns due enrolments and queued messages into email, and
everything between a rendered template and the receiving server.

- ``engine`` (``Engine``): a tick claims due work (``decide``), renders (``render``),
  delivers on a lane thread and records outcomes (``record``); ``tick``, ``specs``: its
  values and caches.
- ``kinds``: message kinds (campaign, confirmation, handoff, …), the transactional-message
  queue, and the template context features register for their kinds.
- ``mime``: message bytes from a per-template skeleton; ``dkim``: DKIM signing.
- ``delivery``: what every transport shares; ``transports``: SMTP or the local outbox;
  ``smtp`` (with ``smtp_connection``; the URL is read by ``platform.smtp_url``),
  ``outbox``; ``ratelimit``.
- ``policy``: per-domain throttles and the warm-up cap.
- ``bounces``: bounce and complaint messages parsed, classified and applied.
"""

from nurture.sending.engine import Engine
from nurture.sending.kinds import MessageKind, queue_message
from nurture.sending.tick import TickReport
from nurture.sending.transports import make_transport

__all__ = ["Engine", "MessageKind", "TickReport", "make_transport", "queue_message"]

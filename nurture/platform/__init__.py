"""The platform every feature stands on; it imports no feature.

- ``config``: settings from ``NURTURE_*`` environment variables (``Settings``), with
  ``units`` (durations, times of day, weekdays) and ``policies`` (the values of settings
  that features interpret: throttles, warm-up, SLA, account score method) and
  ``smtp_url`` (the SMTP server's URL).
- ``db``: the engine, sessions, one transaction per use case, the declarative base, UTC
  timestamps and bulk statements; ``migrate``: Alembic from code.
- ``runtime``: settings plus the database handles built from them, one per process.
- ``hooks``: the named events lower features publish and higher ones subscribe to.
- ``addresses``: email addresses in canonical form; ``decay``: score decay (pure);
  ``pages``: the Jinja set-up and headers of pages reached from an email's links.
- ``event_types``: the catalogue of event types a timeline holds, which every marketer
  file's event names are checked against (pure).
- ``start_up``: an entry point's one ``gc.freeze`` of what start-up made, so the cyclic
  collector stops walking it.

Its modules are imported directly (``from nurture.platform.config import Settings``): this
face re-exports nothing, so importing one part never loads the others.
"""

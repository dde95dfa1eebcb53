"""The runtime: settings plus the database handles built from them.

One object is passed to use cases, CLI commands, the scheduler and the web layer, so no
module holds global state and tests can build as many as they like.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nurture.platform.config import Settings
from nurture.platform.db import make_engine, make_session_factory

SETTINGS_KEY = "nurture.settings"
# The session info key under which the suppression list finds its pepper.
PEPPER_KEY = "nurture.suppression_pepper"


@dataclass
class Runtime:
    """Settings, engine and session factory for one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # Lazily built, process-wide helpers (template cache, SMTP transport).
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Connect to the configured database (nothing is created or migrated here)."""
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        # The suppression list hashes addresses with this pepper (nurture.consent.suppression).
        # Use cases called with only a session (the handoff, from the readiness evaluator)
        # read the settings from here.
        sessions.configure(info={PEPPER_KEY: settings.suppression_pepper, SETTINGS_KEY: settings})
        return cls(settings=settings, engine=engine, sessions=sessions)

    def close(self) -> None:
        """Release pooled connections and cached transports."""
        for value in self._cache.values():
            close = getattr(value, "close", None)
            if callable(close):
                close()
        self._cache.clear()
        self.engine.dispose()


def settings_of(session: Session) -> Settings | None:
    """The settings of the Runtime that made ``session`` (None for a bare session)."""
    settings = session.info.get(SETTINGS_KEY)
    return settings if isinstance(settings, Settings) else None

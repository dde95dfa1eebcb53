"""The runtime: settings plus the database handles built from them.

One object is passed to use cases, CLI commands, the scheduler and the web layer, so no
module holds global state and tests can build as many as they like.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nurture.config import Settings
from nurture.db import make_engine, make_session_factory
from nurture.suppression import PEPPER_KEY


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
        # The suppression list hashes addresses with this pepper (nurture.suppression).
        sessions.configure(info={PEPPER_KEY: settings.suppression_pepper})
        return cls(settings=settings, engine=engine, sessions=sessions)

    def close(self) -> None:
        """Release pooled connections and cached transports."""
        for value in self._cache.values():
            close = getattr(value, "close", None)
            if callable(close):
                close()
        self._cache.clear()
        self.engine.dispose()

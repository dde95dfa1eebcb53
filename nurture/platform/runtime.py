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
        return cls(settings=settings, engine=engine, sessions=_sessions(engine, settings))

    def unsynced_sessions(self) -> sessionmaker[Session]:
        """Sessions whose commits do not wait for the disk (PostgreSQL's
        ``synchronous_commit`` off, set once per connection of a small pool of their own);
        on SQLite, the usual sessions.

        For writes that can be lost with the database's own crash and safely done again:
        such a crash may forget the last fraction of a second of commits (never part of
        one, never anything else); a client that dies loses nothing it committed.
        """
        if self.engine.dialect.name != "postgresql":
            return self.sessions
        owned = self._cache.get(_UNSYNCED)
        if not isinstance(owned, _OwnedSessions):
            engine = make_engine(
                self.settings.database_url,
                pool_size=2,
                connect_args={"options": "-c synchronous_commit=off"},
            )
            # Two threads asking at once: the one stored wins; the other never connected.
            owned = self._cache.setdefault(
                _UNSYNCED, _OwnedSessions(engine, _sessions(engine, self.settings))
            )
            assert isinstance(owned, _OwnedSessions)
        return owned.sessions

    def close(self) -> None:
        """Release pooled connections and cached transports."""
        for value in self._cache.values():
            close = getattr(value, "close", None)
            if callable(close):
                close()
        self._cache.clear()
        self.engine.dispose()


_UNSYNCED = "unsynced_sessions"


@dataclass
class _OwnedSessions:
    """A session factory over an engine of its own, disposed with the Runtime."""

    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def _sessions(engine: Engine, settings: Settings) -> sessionmaker[Session]:
    sessions = make_session_factory(engine)
    # The suppression list hashes addresses with this pepper (nurture.consent.suppression).
    # Use cases called with only a session (the handoff, from the readiness evaluator) read
    # the settings from here.
    sessions.configure(info={PEPPER_KEY: settings.suppression_pepper, SETTINGS_KEY: settings})
    return sessions


def settings_of(session: Session) -> Settings | None:
    """The settings of the Runtime that made ``session`` (None for a bare session)."""
    settings = session.info.get(SETTINGS_KEY)
    return settings if isinstance(settings, Settings) else None

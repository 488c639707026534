"""Browser sessions with CSRF tokens and idle expiry, and the lock after wrong logins."""

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
SWEEP_EVERY = 1000
"""Sweep expired sessions out every this many new sessions."""


@dataclass(slots=True)
class Session:
    id: str
    csrf_token: str
    last_seen: float
    user: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.user is not None


class SessionStore:
    """Sessions by cookie value. One idle for longer than ``idle_seconds`` is gone."""

    def __init__(self, idle_seconds: float, clock: Clock = time.monotonic) -> None:
        self._idle = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._created = 0

    def new(self, user: str | None = None) -> Session:
        session = Session(
            id=secrets.token_urlsafe(24),
            csrf_token=secrets.token_urlsafe(24),
            last_seen=self._clock(),
            user=user,
        )
        with self._lock:
            self._sessions[session.id] = session
            self._created += 1
            if self._created % SWEEP_EVERY == 0:
                self._sweep()
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, its idle time restarted; ``None`` if none or expired."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self._idle:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def drop(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def _sweep(self) -> None:
        now = self._clock()
        expired = [k for k, s in self._sessions.items() if now - s.last_seen > self._idle]
        for key in expired:
            del self._sessions[key]


class LoginGuard:
    """Locks an account after ``attempts`` wrong logins in a row, for ``lock_seconds``."""

    def __init__(self, attempts: int, lock_seconds: float, clock: Clock = time.monotonic) -> None:
        self._attempts = attempts
        self._lock_seconds = lock_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def locked(self, username: str) -> bool:
        with self._lock:
            until = self._locked_until.get(username)
            if until is None:
                return False
            if self._clock() >= until:
                del self._locked_until[username]
                return False
            return True

    def failed(self, username: str) -> bool:
        """Count a wrong attempt; ``True`` when it locked the account."""
        with self._lock:
            failures = self._failures.get(username, 0) + 1
            if failures >= self._attempts:
                self._failures.pop(username, None)
                self._locked_until[username] = self._clock() + self._lock_seconds
                return True
            self._failures[username] = failures
            return False

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)

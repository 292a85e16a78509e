"""Who may use the dashboard: argon2id password hashes, server-side sessions, CSRF tokens,
and a limit on failed logins.

A session is a random token in an httpOnly, SameSite=strict cookie; the database keeps only
its SHA-256, with the user and the session's CSRF token (every form that acts carries it).
Session times are wall-clock: in the demo the trading clock runs 3600x faster, and a
session must still last real hours, so the authenticator has its own `SystemClock`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine

from core.clock import Clock, SystemClock
from db.models.dashboard import DashboardRole
from db.repositories.dashboard_auth import DashboardSessionRepository, DashboardUserRepository
from db.uow import unit_of_work

SESSION_COOKIE = "perpbot_session"
LOGIN_CSRF_COOKIE = "perpbot_login_csrf"
SESSION_LIFETIME = timedelta(hours=12)
NAME_MAX = 50

_hasher = PasswordHasher()
# Verified against when the user does not exist, so an unknown name takes as long as a
# wrong password and the response time does not tell which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    if not name or len(name) > NAME_MAX or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(
            f"dashboard user name {name!r}: 1 to {NAME_MAX} letters, digits, '-' or '_'"
        )
    return name


def check_role(role: str) -> DashboardRole:
    try:
        return DashboardRole(role)
    except ValueError:
        allowed = ", ".join(r.value for r in DashboardRole)
        raise ValueError(f"dashboard role {role!r}: one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    user: str
    role: DashboardRole
    csrf_token: str

    @property
    def can_act(self) -> bool:
        return self.role is DashboardRole.OPERATOR


class Authenticator:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()

    def put_user(self, name: str, role: str, password: str) -> None:
        """Create or reset a user (every session of an existing one ends)."""
        name, checked = check_name(name), check_role(role)
        with unit_of_work(self._engine) as session:
            DashboardUserRepository(session).put(
                name, checked.value, hash_password(password), self._clock.now()
            )

    def login(self, name: str, password: str) -> tuple[str, SessionInfo] | None:
        """A new session's cookie token and its info, or None for a wrong name or password."""
        with unit_of_work(self._engine) as session:
            users = DashboardUserRepository(session)
            user = users.get(name) if len(name) <= NAME_MAX else None
            stored = user.password_hash if user is not None else _DUMMY_HASH
            if not _verify(stored, password) or user is None:
                return None
            if _hasher.check_needs_rehash(user.password_hash):
                users.set_hash(name, hash_password(password))
            now = self._clock.now()
            sessions = DashboardSessionRepository(session)
            sessions.purge_expired(now)
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            sessions.add(token_hash(token), user.name, csrf, now, now + SESSION_LIFETIME)
            return token, SessionInfo(user.name, DashboardRole(user.role), csrf)

    def session(self, token: str | None) -> SessionInfo | None:
        if not token:
            return None
        with unit_of_work(self._engine) as session:
            found = DashboardSessionRepository(session).live(token_hash(token), self._clock.now())
            if found is None:
                return None
            row, user = found
            return SessionInfo(user.name, DashboardRole(user.role), row.csrf_token)

    def logout(self, token: str) -> None:
        with unit_of_work(self._engine) as session:
            DashboardSessionRepository(session).end(token_hash(token))


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class LoginLimiter:
    """At most `attempts` failed logins per key (client address, user name) in `window`
    seconds; past that, logins from that key are refused until the oldest failure ages out.
    Kept in this process: one dashboard process serves one deployment."""

    def __init__(
        self,
        attempts: int = 5,
        window: float = 900.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._monotonic = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str]) -> int | None:
        """Seconds until a login from these keys is allowed again, or None if it is now."""
        now = self._monotonic()
        with self._lock:
            waits = []
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self._attempts:
                    waits.append(int(failures[0] + self._window - now) + 1)
            return max(waits) if waits else None

    def failed(self, keys: list[str]) -> None:
        now = self._monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

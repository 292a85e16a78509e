"""One short transaction at the clock's now, for the paper network and bridges.

Database trouble becomes the port's errors: a lost connection during a send is an unknown
outcome (the commit may have happened); anything else is transient (nothing happened).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, ensure_utc
from exchanges.base import TransientExchangeError, UnknownOutcomeError


@contextmanager
def transaction(
    sessions: sessionmaker[Session], clock: Clock, who: str, operation: str, mutating: bool
) -> Iterator[tuple[Session, datetime]]:
    try:
        with sessions.begin() as session:
            yield session, ensure_utc(clock.now())
    except IntegrityError:
        raise  # the caller resolves a concurrent insert of the same key
    except DBAPIError as exc:
        reason = f"{operation}: database error ({type(exc.orig).__name__})"
        if mutating and exc.connection_invalidated:
            raise UnknownOutcomeError(who, reason) from exc
        raise TransientExchangeError(who, reason) from exc

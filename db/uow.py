"""Unit of work: the caller owns the transaction, repositories only use the session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import session_factory


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """Yield a session in a transaction; commit when the block ends, roll back on error."""
    session = session_factory(engine)()
    try:
        with session.begin():
            yield session
    finally:
        session.close()

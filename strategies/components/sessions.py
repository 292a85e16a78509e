"""How the PostgreSQL backends get a transaction: a `SessionScope`.

A scope is a zero-argument callable returning a context manager that yields a session in a
transaction and commits (or rolls back) when the block ends. Each component call runs in
one scope, so a position change and its audit event commit together or not at all.

- `engine_scope(engine)`: a new transaction per call (tasks, the CLI, the in-process runner).
- `savepoint_scope(session)`: a savepoint inside a transaction the caller owns, for a caller
  that must commit component writes together with its own (e.g. an order intent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.uow import unit_of_work

SessionScope = Callable[[], AbstractContextManager[Session]]


def engine_scope(engine: Engine) -> SessionScope:
    """Each use opens a unit of work on `engine`: its own transaction, committed at the end."""

    def scope() -> AbstractContextManager[Session]:
        return unit_of_work(engine)

    return scope


def savepoint_scope(session: Session) -> SessionScope:
    """Each use runs in a savepoint of `session`; the caller commits the outer transaction."""

    @contextmanager
    def scope() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return scope

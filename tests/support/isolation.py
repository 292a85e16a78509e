"""A guard for tests that must run on in-memory parts only: any database connection, SQL
statement or network connection attempted inside it fails loudly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool


class ExternalServiceUsedError(AssertionError):
    """The code under test reached for PostgreSQL, Redis, a broker or another server."""


def _refuse(what: str) -> Any:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ExternalServiceUsedError(f"{what} attempted in a test that must not use one")

    return refuse


@contextmanager
def no_external_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse pooled database connections (new or reused), SQL and socket connections."""
    listeners = [
        (Pool, "connect", _refuse("a database connection")),
        (Pool, "checkout", _refuse("a database connection")),
        (Engine, "before_cursor_execute", _refuse("an SQL statement")),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    monkeypatch.setattr(socket.socket, "connect", _refuse("a network connection"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("a network connection"))
    try:
        yield
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)

"""Engine and session factory. One engine per URL per process, created on first use."""

from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from core.settings import get_settings


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        future=True,
        connect_args={"connect_timeout": 10, "options": "-c timezone=UTC"},
    )
    _dispose_after_fork(engine)
    return engine


def _dispose_after_fork(engine: Engine) -> None:
    # A pooled connection must never be shared by a forked Celery pool process.
    pid = os.getpid()

    @event.listens_for(engine, "connect")
    def _record_pid(
        dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry
    ) -> None:
        connection_record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _check_pid(
        dbapi_connection: DBAPIConnection,
        connection_record: ConnectionPoolEntry,
        connection_proxy: PoolProxiedConnection,
    ) -> None:
        if connection_record.info.get("pid", pid) != os.getpid():
            # Dropped, not closed: the socket is the parent's. The pool's interface types
            # declare the attribute read-only; the record and proxy behind them take None.
            connection_record.dbapi_connection = connection_proxy.dbapi_connection = None  # type: ignore[misc]  # above
            from sqlalchemy.exc import DisconnectionError

            raise DisconnectionError("connection belongs to another process")


def get_engine() -> Engine:
    """The engine for the configured `DATABASE_URL`."""
    return engine_for(get_settings().database_url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False, future=True)

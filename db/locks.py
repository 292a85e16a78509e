"""Mutual exclusion with PostgreSQL advisory locks: per strategy, and per transfer route.

A strategy never runs two phases at once, whoever fires them (beat, a manual command, a
redelivered message, a second beat started by mistake). The lock is a session-level advisory
lock held on a dedicated connection for the duration of the task, so a task may commit
several transactions inside it; if the worker process dies, its connection closes and
PostgreSQL releases the lock — there is nothing to expire or clean up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

# The first key of the two-key advisory lock space: one namespace per kind of lock (the
# second key is a hash of the name; a collision only makes two names wait for each other).
STRATEGY_LOCK_NAMESPACE = 0x5045_5250  # "PERP"
TRANSFER_ROUTE_LOCK_NAMESPACE = 0x5452_4E53  # "TRNS"


def lock_transfer_route(session: Session, route: str) -> None:
    """Wait for, then hold until the session's transaction ends, the lock of one transfer
    route: requests of a route check its cap and insert one at a time. Take it before
    reading what the route has used, so that the read sees every committed request."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(:route))"),
        {"ns": TRANSFER_ROUTE_LOCK_NAMESPACE, "route": route},
    )


@contextmanager
def strategy_lock(engine: Engine, strategy_name: str) -> Iterator[bool]:
    """Yield True while holding the strategy's lock, or False at once if someone else has it."""
    connection = engine.connect()
    try:
        acquired = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:ns, hashtext(:name))"),
                {"ns": STRATEGY_LOCK_NAMESPACE, "name": strategy_name},
            ).scalar_one()
        )
        connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:ns, hashtext(:name))"),
                    {"ns": STRATEGY_LOCK_NAMESPACE, "name": strategy_name},
                )
                connection.commit()
    finally:
        connection.close()

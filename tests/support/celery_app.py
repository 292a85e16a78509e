"""The production Celery app plus tasks that only tests use (start workers with -A this)."""

from __future__ import annotations

import os
import time

from sqlalchemy import text

import tests.support.probe_strategy  # noqa: F401  (registers the probe strategy)
from core.clock import SystemClock
from db.repositories import EventRepository
from db.uow import unit_of_work
from tasks import app


@app.task(name="perpbot.test.record_run", acks_late=True)
def record_run(key: str, sleep_seconds: float = 0.0) -> dict[str, object]:
    """Record a start event (with this process's pid), sleep, record a done event."""
    clock = SystemClock()
    with unit_of_work() as session:
        EventRepository(session).append(
            "test.started", "test", key, occurred_at=clock.now(), pid=os.getpid()
        )
    time.sleep(sleep_seconds)  # the task's work: a real worker process is busy meanwhile
    with unit_of_work() as session:
        EventRepository(session).append(
            "test.done", "test", key, occurred_at=clock.now(), pid=os.getpid()
        )
        count = session.execute(
            text("SELECT count(*) FROM events WHERE entity_id = :k AND kind = 'test.done'"),
            {"k": key},
        ).scalar_one()
    return {"key": key, "done_count": int(count)}


@app.task(name="perpbot.test.venue_client")
def venue_client(venue: str) -> dict[str, object]:
    """What this worker would trade `venue` with: its mode, the client it builds, and any
    variable in its environment that could make it live."""
    from core.settings import get_settings
    from exchanges.registry import is_live_variable
    from strategies.runtime import get_runtime

    return {
        "mode": get_settings().deployment_mode,
        "client": type(get_runtime().exchange(venue)).__name__,
        "live_variables": sorted(name for name in os.environ if is_live_variable(name)),
    }


__all__ = ["app", "record_run", "venue_client"]

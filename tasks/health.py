"""Health check: proves a worker is up and can reach PostgreSQL."""

from __future__ import annotations

import socket

from celery.utils.log import get_task_logger
from sqlalchemy import text

from db.uow import unit_of_work
from tasks import app

logger = get_task_logger(__name__)


@app.task(name="perpbot.health.ping", acks_late=True)
def ping() -> dict[str, object]:
    """Answer with the worker's host and the database's clock (UTC)."""
    with unit_of_work() as session:
        db_now = session.execute(text("SELECT now()")).scalar_one()
    return {"pong": True, "host": socket.gethostname(), "db_time": db_now.isoformat()}


@app.task(name="perpbot.health.noop", acks_late=True)
def noop() -> dict[str, object]:
    """Does nothing: measures the broker round trip (bench/bench_strategy_tick.py)."""
    return {"ok": True}

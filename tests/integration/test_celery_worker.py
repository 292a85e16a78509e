"""A real Celery worker on the real Redis broker."""

import os
import signal
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Event
from tests.support.celery_app import app, record_run
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker


def _events(engine, key: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.scalars(select(Event).where(Event.entity_id == key).order_by(Event.id)))


def test_worker_answers_the_health_task(clean_db):
    with celery_worker():
        result = app.send_task("perpbot.health.ping")
        answer = result.get(timeout=30)
    assert answer["pong"] is True
    assert answer["db_time"].endswith("+00:00")


def test_task_whose_worker_process_is_killed_is_redelivered_and_completes(clean_db):
    key = f"kill-{uuid.uuid4().hex[:8]}"
    with celery_worker():
        record_run.delay(key, 3.0)
        started = wait_until(
            lambda: [e for e in _events(clean_db, key) if e.kind == "test.started"],
            timeout=30,
            message="task never started",
        )
        # The pool process running the task dies (as under the OOM killer).
        os.kill(started[0].payload["pid"], signal.SIGKILL)
        wait_until(
            lambda: any(e.kind == "test.done" for e in _events(clean_db, key)),
            timeout=60,
            message="task was not redelivered",
            interval=0.2,
        )
    kinds = [e.kind for e in _events(clean_db, key)]
    assert kinds.count("test.started") == 2  # killed once, run again
    assert kinds.count("test.done") == 1

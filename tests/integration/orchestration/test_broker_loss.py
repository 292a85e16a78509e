"""The broker dies while an `open` is between its two legs: the task goes on to the second
leg and finishes (Celery's `worker_cancel_long_running_tasks_on_connection_loss` is off), on
a real Redis that is shut down mid-task and started again."""

from __future__ import annotations

import socket
import textwrap

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.embedded_redis import start_embedded_redis, stop_embedded_redis
from db.models import Event, TaskRun
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _events(engine, kind: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.scalars(select(Event).where(Event.kind == kind)))


def _open_runs(engine) -> list[TaskRun]:
    with Session(engine) as session:
        return list(session.scalars(select(TaskRun).where(TaskRun.phase == "open")))


def test_a_broker_drop_between_the_legs_does_not_end_the_open(probe_configs, clean_db, tmp_path):
    import celery

    import celeryconfig

    (probe_configs / "legs.yaml").write_text(
        textwrap.dedent("""
        type: probe
        name: legs
        legs: true
        phase_seconds: 4
    """)
    )
    port = _free_port()
    redis_dir = tmp_path / "redis"
    url = start_embedded_redis(redis_dir, port)
    env = {"REDIS_URL": url, "CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url}
    sender = celery.Celery("broker-loss-sender")
    sender.config_from_object(celeryconfig)
    sender.conf.update(broker_url=url, result_backend=url)
    try:
        with celery_worker(queues="strategy", concurrency=1, env=env):
            sender.send_task("perpbot.strategy.open", args=("legs",), queue="strategy")
            wait_until(lambda: _events(clean_db, "probe.leg.long"), 60, "no first leg")
            stop_embedded_redis(redis_dir, port)  # the broker is gone, mid-open
            # The second leg comes while Redis is still down: nothing cancelled the task.
            wait_until(lambda: _events(clean_db, "probe.leg.short"), 30, "no second leg")
            runs = wait_until(
                lambda: [r for r in _open_runs(clean_db) if r.status == "succeeded"],
                30,
                "the open did not finish",
            )
            start_embedded_redis(redis_dir, port)
    finally:
        stop_embedded_redis(redis_dir, port)
    assert len(runs) == 1
    # Never a second leg without its first, nor a first left alone.
    assert len(_events(clean_db, "probe.leg.short")) == len(_events(clean_db, "probe.leg.long"))

"""A worker killed outright (SIGKILL of the whole worker) mid-task: back within seconds."""

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import TaskRun
from tests.support.celery_app import app
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker, kill_group

pytestmark = pytest.mark.slow


def _runs(engine, task_id):
    with Session(engine) as session:
        return list(session.scalars(select(TaskRun).where(TaskRun.task_id == task_id)))


def test_killed_worker_task_is_redelivered_in_seconds_and_completes_once(
    probe_configs, clean_db, monkeypatch
):
    import textwrap

    (probe_configs / "slow.yaml").write_text(
        textwrap.dedent("""
        type: probe
        name: slow
        phase_seconds: 4
    """)
    )
    with celery_worker(concurrency=1) as first:
        result = app.send_task(
            "perpbot.strategy.monitor", args=("slow",), kwargs={"trigger": "manual"}
        )
        # After the worker's start-up repair (its own run, phase "start"): the monitor itself.
        wait_until(
            lambda: any(r.phase == "monitor" for r in _runs(clean_db, result.id)),
            timeout=30,
            message="task never started",
        )
        kill_group(first)  # the worker and its pool process, without any goodbye
        killed_at = time.monotonic()
    with celery_worker(concurrency=1):
        answer = result.get(timeout=60)
        recovered_after = time.monotonic() - killed_at
    # Each worker's start-up repair (phase "start") is recorded under the task that ran it.
    runs = [r for r in _runs(clean_db, result.id) if r.phase == "monitor"]
    assert answer["skipped"] is False
    assert sorted(r.status for r in runs) == ["failed", "succeeded"]
    assert next(r for r in runs if r.status == "failed").reason.startswith("worker lost")
    # Far below the broker's visibility timeout (task_time_limit + 360 s).
    assert recovered_after < 30, recovered_after

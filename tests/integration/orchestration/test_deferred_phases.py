"""Phases that find the strategy's lock taken are deferred, not dropped; refused messages
leave a record. The tasks run in this process (`apply`), against the real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import tests.support.probe_strategy  # noqa: F401  (registers the probe in this process too)
from db.locks import strategy_lock
from db.models import Event, PendingPhase, TaskRun
from db.repositories.runs import TaskRunRepository
from db.uow import unit_of_work
from tasks import phase_runner
from tasks.strategy_tasks import (
    close_position,
    monitor,
    open_positions,
    pause,
    rebalance,
    sweep_runs,
)


@pytest.fixture(autouse=True)
def _fresh_start():
    phase_runner.forget_started()
    yield
    phase_runner.forget_started()


def _runs(engine) -> list[TaskRun]:
    with Session(engine) as session:
        return list(session.scalars(select(TaskRun).order_by(TaskRun.started_at, TaskRun.id)))


def _phases_run(engine) -> list[str]:
    with Session(engine) as session:
        events = session.scalars(select(Event).where(Event.kind.like("probe.%")).order_by(Event.id))
        return [e.kind.removeprefix("probe.") for e in events]


def test_a_phase_that_finds_the_lock_taken_is_run_by_the_next_holder_first(probe_configs, clean_db):
    with strategy_lock(clean_db, "alpha") as held:
        assert held
        answers = [
            open_positions.apply(args=("alpha",)).get(),
            rebalance.apply(args=("alpha",)).get(),
            monitor.apply(args=("alpha",)).get(),
            monitor.apply(args=("alpha",)).get(),  # the same tick twice: one request
        ]
    assert all(a["deferred"] for a in answers)
    with Session(clean_db) as session:
        assert session.scalar(select(PendingPhase.id).limit(1)) is not None
    # The next phase that gets the lock runs the waiting ones, most urgent first.
    ran = open_positions.apply(args=("alpha",)).get()
    assert ran["skipped"] is False and not ran.get("deferred")
    assert _phases_run(clean_db) == ["monitor", "rebalance", "open"]
    with Session(clean_db) as session:
        assert session.scalar(select(PendingPhase.id).limit(1)) is None
    runs = _runs(clean_db)
    assert [r.status for r in runs if r.phase != "start"].count("deferred") == 4
    done = [r for r in runs if r.status == "succeeded" and r.phase != "start"]
    assert [r.phase for r in done] == ["monitor", "rebalance", "open"]
    assert done[0].reason.startswith("deferred ")
    # The worker's first phase of the strategy ran its start-up repair.
    [start] = [r for r in runs if r.phase == "start"]
    assert (start.trigger, start.status) == ("startup", "succeeded")


def test_a_manual_rebalance_waits_with_its_arguments(probe_configs, clean_db):
    position = str(uuid.uuid4())
    with strategy_lock(clean_db, "alpha"):
        rebalance.apply(
            args=("alpha",),
            kwargs={"position_id": position, "reason": "operator", "trigger": "manual"},
        ).get()
    monitor.apply(args=("alpha",)).get()
    with Session(clean_db) as session:
        [event] = session.scalars(select(Event).where(Event.kind == "probe.rebalance"))
    assert event.payload["position"] == position and event.payload["reason"] == "operator"


def test_a_pause_holder_runs_what_waited_for_it(probe_configs, clean_db):
    with strategy_lock(clean_db, "alpha"):
        monitor.apply(args=("alpha",)).get()
    pause.apply(args=("alpha",), kwargs={"reason": "test"}).get()
    assert _phases_run(clean_db) == ["monitor"]


BAD_MESSAGES = [
    ("perpbot.strategy.monitor", ("nope",), {}, "unknown strategy 'nope'"),
    ("perpbot.strategy.monitor", (5,), {}, "strategy_name must be a string, got int 5"),
    ("perpbot.strategy.monitor", ("alpha",), {"trigger": "cron"}, "trigger must be one of"),
    ("perpbot.strategy.monitor", (), {}, "missing a required argument: 'strategy_name'"),
    ("perpbot.strategy.monitor", ("alpha", "beat", "x"), {}, "too many positional arguments"),
    ("perpbot.strategy.open", ("alpha",), {"size": 3}, "unexpected keyword argument 'size'"),
    ("perpbot.strategy.close", ("alpha", "abc"), {}, "position_id 'abc' is not a UUID"),
    ("perpbot.strategy.close", ("alpha", 7), {}, "position_id must be a string (a UUID), got int"),
    ("perpbot.strategy.close", ("alpha",), {}, "missing a required argument: 'position_id'"),
    ("perpbot.strategy.rebalance", ("alpha",), {"position_id": "x1"}, "'x1' is not a UUID"),
    ("perpbot.strategy.rebalance", ("alpha",), {"reason": 4}, "reason must be a string"),
    ("perpbot.strategy.pause", (["alpha"],), {}, "strategy_name must be a string, got list"),
    ("perpbot.strategy.resume", ("ghost",), {}, "unknown strategy 'ghost'"),
]


@pytest.mark.parametrize(("task_name", "args", "kwargs", "message"), BAD_MESSAGES)
def test_a_refused_message_leaves_a_failed_run_naming_the_argument(
    probe_configs, clean_db, task_name, args, kwargs, message
):
    from tasks import app

    result = app.tasks[task_name].apply(args=args, kwargs=kwargs)
    assert result.failed()
    [run] = _runs(clean_db)
    assert run.status == "failed" and run.finished_at is not None
    assert message in run.reason, run.reason
    assert run.reason.startswith("refused: ")
    assert _phases_run(clean_db) == []


def test_runs_left_running_by_a_dead_worker_are_swept(probe_configs, clean_db):
    from strategies.runtime import get_runtime

    now = get_runtime().clock.now()
    with unit_of_work(clean_db) as session:
        repository = TaskRunRepository(session)
        old = repository.start(
            "perpbot.strategy.open", "alpha", "open", "beat", at=now - timedelta(hours=1)
        )
        fresh = repository.start("perpbot.strategy.open", "alpha", "open", "beat", at=now)
    assert sweep_runs.apply().get()["closed"] == [str(old)]
    with Session(clean_db) as session:
        assert session.get(TaskRun, old).status == "failed"
        assert "hard time limit" in session.get(TaskRun, old).reason
        assert session.get(TaskRun, fresh).status == "running"


def test_close_refuses_a_missing_position_id_even_by_keyword(probe_configs, clean_db):
    result = close_position.apply(args=("alpha",), kwargs={"position_id": None})
    assert result.failed()
    [run] = _runs(clean_db)
    assert "position_id is required" in run.reason


def test_the_watchdog_repairs_an_unfinished_position_then_waits_for_it_to_change(
    probe_configs, clean_db
):
    from tasks.strategy_tasks import watchdog

    (probe_configs / "opener.yaml").write_text(
        "type: probe\nname: opener\nopens: true\nphase_seconds: 0\n"
    )
    assert watchdog.apply(args=("opener",)).get() == {"strategy": "opener", "unfinished": 0}
    monitor.apply(args=("opener",)).get()  # the probe leaves an OPENING position behind
    first = watchdog.apply(args=("opener",)).get()
    assert first["unfinished"] == 1 and first["phase"] == "repair" and not first["skipped"]
    again = watchdog.apply(args=("opener",)).get()
    assert again["unfinished"] == 1 and "waiting_since" in again  # not every tick
    repairs = [r for r in _runs(clean_db) if r.trigger == "watchdog"]
    assert [(r.phase, r.status) for r in repairs] == [("repair", "succeeded")]

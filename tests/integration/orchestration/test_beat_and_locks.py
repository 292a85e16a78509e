"""Worker + beat against real Redis and PostgreSQL: schedules, locks, manual operations."""

import itertools
from collections import defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import tests.support.probe_strategy  # noqa: F401  (registers the probe in this process too)
from beat_schedule import build_schedule, schedule_from_runtime
from db.locks import strategy_lock
from db.models import Event, TaskRun
from tests.support.celery_app import app
from tests.support.waiting import wait_until
from tests.support.workers import celery_beat, celery_worker

pytestmark = pytest.mark.slow


def _runs(engine) -> list[TaskRun]:
    with Session(engine) as session:
        return list(session.scalars(select(TaskRun).order_by(TaskRun.started_at)))


def test_schedule_has_entries_per_enabled_strategy(probe_configs):
    schedule = schedule_from_runtime()
    assert sorted(schedule) == sorted(
        [
            "alpha-monitor",
            "alpha-rebalance",
            "alpha-open",
            "alpha-watchdog",
            "beta-monitor",
            "beta-rebalance",
            "beta-open",
            "beta-watchdog",
            "funding-collect",
            "transfers-sweep",
            "breakers-check",
            "runs-sweep",
        ]
    )
    entry = schedule["alpha-monitor"]
    assert entry["task"] == "perpbot.strategy.monitor" and entry["args"] == ("alpha",)
    # A tick that cannot start within its interval is dropped, not piled up.
    assert entry["options"]["expires"] == 1.0
    assert schedule["alpha-watchdog"]["task"] == "perpbot.strategy.watchdog"
    assert schedule["alpha-watchdog"]["options"]["expires"] == 2.0
    assert build_schedule({}, {}, transfers_sweep_seconds=None).keys() == {"funding-collect"}


EXPECTED_MONITORS = {"alpha": 10, "beta": 6}  # beat ticks (ran or skipped) to wait for


def _by_strategy(engine) -> dict[str, list[TaskRun]]:
    by_strategy = defaultdict(list)
    for run in _runs(engine):
        by_strategy[run.strategy_name].append(run)
    return by_strategy


def _ticked_enough(engine) -> bool:
    by_strategy = _by_strategy(engine)
    return all(
        sum(r.phase == "monitor" for r in by_strategy[name]) >= count
        and {r.phase for r in by_strategy[name] if r.status == "succeeded"}
        >= {"monitor", "rebalance", "open"}
        for name, count in EXPECTED_MONITORS.items()
    )


def test_worker_and_beat_tick_both_strategies_never_overlapping(probe_configs, clean_db):
    with celery_worker(concurrency=4), celery_beat():
        wait_until(
            lambda: _ticked_enough(clean_db),
            timeout=90,
            message=lambda: (
                "beat ticks so far: "
                + str({name: len(runs) for name, runs in _by_strategy(clean_db).items()})
            ),
            interval=0.5,
        )
    by_strategy = _by_strategy(clean_db)
    for name, expected_monitors in EXPECTED_MONITORS.items():
        done = [r for r in by_strategy[name] if r.status == "succeeded"]
        monitors = [r for r in by_strategy[name] if r.phase == "monitor"]
        # Every tick either ran or was skipped because another phase held the lock.
        assert len(monitors) >= expected_monitors, (name, len(monitors))
        # "start": each worker process's start-up repair, under the lock like the phases.
        assert {r.phase for r in done} == {"start", "monitor", "rebalance", "open"}
        done.sort(key=lambda r: r.started_at)
        for earlier, later in itertools.pairwise(done):
            assert later.started_at >= earlier.finished_at, (name, earlier.phase, later.phase)
    assert "idle" not in by_strategy  # disabled: no entries at all


def test_manual_rebalance_is_deferred_while_locked_and_runs_once_when_free(probe_configs, clean_db):
    with celery_worker(concurrency=2):
        with strategy_lock(clean_db, "alpha") as held:
            assert held
            blocked = app.send_task(
                "perpbot.strategy.rebalance",
                args=("alpha",),
                kwargs={"reason": "operator says so", "trigger": "manual"},
            ).get(timeout=30)
        assert blocked["deferred"] is True
        ran = app.send_task(
            "perpbot.strategy.rebalance",
            args=("alpha",),
            kwargs={"reason": "operator says so", "trigger": "manual"},
        ).get(timeout=30)
    assert ran["skipped"] is False
    runs = [r for r in _runs(clean_db) if r.phase != "start"]  # the start-up repair
    # The waiting request and the new one are the same: it ran once, for both.
    assert [(r.status, r.trigger) for r in runs] == [
        ("deferred", "manual"),
        ("succeeded", "manual"),
    ]
    assert runs[1].reason == "operator says so"
    with Session(clean_db) as session:
        event = session.scalars(select(Event).where(Event.kind == "probe.rebalance")).one()
    assert event.payload["reason"] == "operator says so"


def test_redelivered_and_duplicate_ticks_never_overlap(probe_configs, clean_db):
    with celery_worker(concurrency=4):
        # The same tick delivered several times at once (redelivery, a second beat).
        results = [app.send_task("perpbot.strategy.monitor", args=("alpha",)) for _ in range(4)]
        answers = [r.get(timeout=60) for r in results]
    ran = [a for a in answers if not a["skipped"]]
    assert len(ran) >= 1
    done = sorted(
        (r for r in _runs(clean_db) if r.status == "succeeded"), key=lambda r: r.started_at
    )
    for earlier, later in itertools.pairwise(done):
        assert later.started_at >= earlier.finished_at


def test_unknown_strategy_fails_with_its_name(probe_configs, clean_db):
    with celery_worker(concurrency=1):
        result = app.send_task("perpbot.strategy.monitor", args=("nope",))
        with pytest.raises(Exception, match="unknown strategy 'nope'"):
            result.get(timeout=30)

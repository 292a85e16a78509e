"""Strategy tasks: one task per strategy tick (never per position), on the `strategy` queue.

Every task — beat-fired or manual — runs its phase under the strategy's advisory lock; a
task that finds the lock taken is recorded as skipped and returns at once (it is not queued
behind the holder). Phases are idempotent (client order ids, state versions), so a
redelivered message is safe.

Pause means no new exposure, whatever the trigger: while a strategy may take none
(`Runtime.exposure_block`: paused; later, halted), `open` and `cycle` are skipped, and every
other phase (monitor, rebalance, transfers, close) runs with the strategy built guarded —
reduce-only venue clients, a position manager that opens nothing — so a rebalance closes or
reduces but a SWITCH never opens its new pair.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from celery import Task
from celery.utils.log import get_task_logger

from db.locks import strategy_lock
from db.repositories.runs import ControlRepository, TaskRunRepository
from db.uow import unit_of_work
from strategies.runtime import OPENING_PHASES, Runtime
from tasks import app
from tasks.transfer_dispatch import task_runtime

logger = get_task_logger(__name__)

PhaseCall = Callable[[Any, Any], Any]  # (strategy, now) -> phase result


def _jsonable(result: Any) -> dict[str, Any]:
    if hasattr(result, "to_json"):
        return dict(result.to_json())
    if isinstance(result, dict):
        return result
    return {"result": str(result)}


def run_phase(
    task: Task[..., Any],
    strategy_name: str,
    phase: str,
    call: PhaseCall,
    trigger: str = "beat",
    reason: str | None = None,
) -> dict[str, Any]:
    """Run one phase of one strategy under its lock, recording the run in `task_runs`."""
    runtime = task_runtime()
    runtime.config(strategy_name)  # unknown names fail before anything is recorded
    task_id = getattr(task.request, "id", None)
    worker = f"{socket.gethostname()}:{getattr(task.request, 'hostname', '')}"
    record: dict[str, Any] = {  # the keyword arguments of `TaskRunRepository.start`
        "task_name": task.name,
        "strategy_name": strategy_name,
        "phase": phase,
        "trigger": trigger,
        "task_id": task_id,
        "worker": worker,
    }
    with strategy_lock(runtime.engine, strategy_name) as held:
        if not held:
            return _skip(runtime, record, "another phase of this strategy is running")
        blocked = runtime.exposure_block(strategy_name)
        if blocked is not None and phase in OPENING_PHASES:
            return _skip(runtime, record, f"no new exposure: {blocked}")
        with unit_of_work(runtime.engine) as session:
            run_id = TaskRunRepository(session).start(
                **record, at=runtime.clock.now(), reason=reason
            )
        try:
            strategy = runtime.build(strategy_name, no_new_exposure=blocked)
            result = _jsonable(call(strategy, runtime.clock.now()))
        except Exception as exc:
            logger.exception("%s %s failed", strategy_name, phase)
            error = {"error": f"{type(exc).__name__}: {exc}"}
            _finish(runtime, run_id, "failed", error)
            raise
        _finish(runtime, run_id, "failed" if result.get("error") else "succeeded", result)
        return {"strategy": strategy_name, "phase": phase, "skipped": False, **result}


def _finish(runtime: Runtime, run_id: Any, status: str, result: dict[str, Any]) -> None:
    with unit_of_work(runtime.engine) as session:
        TaskRunRepository(session).finish(run_id, status, result, runtime.clock.now())


def _skip(runtime: Runtime, record: dict[str, Any], why: str) -> dict[str, Any]:
    logger.info("%s %s skipped: %s", record["strategy_name"], record["phase"], why)
    with unit_of_work(runtime.engine) as session:
        TaskRunRepository(session).start(
            **record, at=runtime.clock.now(), reason=why, status="skipped"
        )
    return {
        "strategy": record["strategy_name"],
        "phase": record["phase"],
        "skipped": True,
        "reason": why,
    }


_OPTIONS: dict[str, Any] = {"bind": True, "acks_late": True, "queue": "strategy"}


@app.task(name="perpbot.strategy.monitor", **_OPTIONS)
def monitor(self: Task[..., Any], strategy_name: str, trigger: str = "beat") -> dict[str, Any]:
    return run_phase(self, strategy_name, "monitor", lambda s, now: s.monitor(now), trigger)


@app.task(name="perpbot.strategy.rebalance", **_OPTIONS)
def rebalance(
    self: Task[..., Any],
    strategy_name: str,
    position_id: str | None = None,
    reason: str | None = None,
    trigger: str = "beat",
) -> dict[str, Any]:
    import uuid

    pid = uuid.UUID(position_id) if position_id else None
    return run_phase(
        self,
        strategy_name,
        "rebalance",
        lambda s, now: s.rebalance(now, position_id=pid, reason=reason),
        trigger,
        reason,
    )


@app.task(name="perpbot.strategy.open", **_OPTIONS)
def open_positions(
    self: Task[..., Any], strategy_name: str, trigger: str = "beat"
) -> dict[str, Any]:
    return run_phase(self, strategy_name, "open", lambda s, now: s.open_positions(now), trigger)


@app.task(name="perpbot.strategy.transfers", **_OPTIONS)
def process_transfers(
    self: Task[..., Any], strategy_name: str, trigger: str = "beat"
) -> dict[str, Any]:
    return run_phase(
        self, strategy_name, "transfers", lambda s, now: s.process_transfers(now), trigger
    )


@app.task(name="perpbot.strategy.cycle", **_OPTIONS)
def run_cycle(self: Task[..., Any], strategy_name: str, trigger: str = "beat") -> dict[str, Any]:
    return run_phase(self, strategy_name, "cycle", lambda s, now: s.run_cycle(now), trigger)


@app.task(name="perpbot.strategy.close", **_OPTIONS)
def close_position(
    self: Task[..., Any], strategy_name: str, position_id: str, reason: str = "operator"
) -> dict[str, Any]:
    import uuid

    pid = uuid.UUID(position_id)
    return run_phase(
        self,
        strategy_name,
        "close",
        lambda s, now: s.close_position(pid, reason, now),
        "manual",
        reason,
    )


# Pause winds the strategy down under its lock; a phase holds the lock at most its hard time
# limit, so retrying this often, that long, always finds it free in the end.
WIND_DOWN_RETRY_SECONDS = 2


@app.task(name="perpbot.strategy.pause", bind=True, acks_late=True, queue="strategy")
def pause(self: Task[..., Any], strategy_name: str, reason: str | None = None) -> dict[str, Any]:
    """No new exposure for a strategy until `resume`: its phases that open are skipped, the
    others run guarded. Recorded at once (a phase already running finishes as it started);
    then, under the strategy's lock, the strategy is wound down as a stop does, which
    cancels resting orders that would add exposure (a grid's opens; take-profits stay).
    Idempotent."""
    runtime = task_runtime()
    if not self.request.retries:
        _set_paused(runtime, strategy_name, True, reason)
    with strategy_lock(runtime.engine, strategy_name) as held:
        if not held:
            limit = runtime.settings.task_time_limit // WIND_DOWN_RETRY_SECONDS + 1
            raise self.retry(countdown=WIND_DOWN_RETRY_SECONDS, max_retries=limit)
        blocked = runtime.exposure_block(strategy_name)
        if blocked is not None:  # not resumed meanwhile
            runtime.build(strategy_name, no_new_exposure=blocked).stop()
    return {"strategy": strategy_name, "paused": True}


@app.task(name="perpbot.strategy.resume", bind=True, acks_late=True, queue="strategy")
def resume(self: Task[..., Any], strategy_name: str, reason: str | None = None) -> dict[str, Any]:
    """Let a paused strategy take new exposure again (its next open/cycle phase runs)."""
    _set_paused(task_runtime(), strategy_name, False, reason)
    return {"strategy": strategy_name, "paused": False}


def _set_paused(runtime: Runtime, strategy_name: str, paused: bool, reason: str | None) -> None:
    from db.repositories import EventRepository

    runtime.config(strategy_name)
    with unit_of_work(runtime.engine) as session:
        ControlRepository(session).set_paused(strategy_name, paused, reason)
        EventRepository(session).append(
            "strategy.paused" if paused else "strategy.resumed",
            "strategy",
            strategy_name,
            strategy_name=strategy_name,
            occurred_at=runtime.clock.now(),
            reason=reason,
        )

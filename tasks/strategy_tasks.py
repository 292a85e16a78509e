"""Strategy tasks: one task per strategy tick (never per position), on the `strategy` queue.

Every task — beat-fired or manual — runs its phase under the strategy's advisory lock
(`tasks/phase_runner.py`): a task that finds the lock taken is deferred, not dropped, and
the holder runs it before letting go, most urgent first. Phases are idempotent (client
order ids, state versions), so a redelivered message is safe. A worker runs each
strategy's start-up repair on its first phase of it. Every argument is checked first; a
refused message is a failed `task_runs` row naming the argument (`tasks/task_arguments.py`).

The unhedged watchdog (`watchdog`, beat every `PERPBOT_WATCHDOG_SECONDS`) looks in
PostgreSQL for positions left unfinished (a leg filled, its partner not: a worker died
between the legs) and runs the repair phase at once, or defers it as the most urgent phase
if a phase holds the lock. `sweep_runs` closes runs whose worker died with the message.

Pause means no new exposure, whatever the trigger: while a strategy may take none
(`Runtime.exposure_block`: paused or halted), `open` and `cycle` are skipped, and every
other phase (monitor, rebalance, transfers, close) runs with the strategy built guarded —
reduce-only venue clients, a position manager that opens nothing — so a rebalance closes or
reduces but a SWITCH never opens its new pair.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from celery import Task
from celery.utils.log import get_task_logger
from sqlalchemy import func, select

from core.enums import PositionStatus
from db.locks import strategy_lock
from db.models import StrategyPosition, TaskRun
from db.repositories.runs import ControlRepository, TaskRunRepository
from db.uow import unit_of_work
from strategies.runtime import Runtime
from tasks import app
from tasks import task_arguments as check
from tasks.phase_runner import PhaseRequest, register_phase, run_requested, run_waiting
from tasks.task_arguments import StrategyTask, TaskArgumentError, record_refusal
from tasks.transfer_dispatch import task_runtime

logger = get_task_logger(__name__)

UNFINISHED = (PositionStatus.OPENING, PositionStatus.CLOSING, PositionStatus.NEEDS_RECONCILE)
# A position the last repair could not finish (an order in doubt, a venue down) is retried
# this often by the watchdog, rather than on every tick.
WATCHDOG_REPEAT = timedelta(seconds=30)


def _pid(position_id: str | None) -> uuid.UUID | None:
    return uuid.UUID(position_id) if position_id is not None else None


def _repair(strategy: Any, now: Any) -> Any:
    """The watchdog's phase: repair first, alone (`reconcile` where a strategy has one)."""
    reconcile = getattr(strategy, "reconcile", None)
    if reconcile is None:
        strategy.start()
        return {"repaired": "start-up repair"}
    return reconcile(now)


register_phase("repair", _repair)
register_phase("monitor", lambda s, now: s.monitor(now))
register_phase(
    "rebalance",
    lambda s, now, position_id=None, reason=None: s.rebalance(
        now, position_id=_pid(position_id), reason=reason
    ),
)
register_phase("open", lambda s, now: s.open_positions(now))
register_phase("transfers", lambda s, now: s.process_transfers(now))
register_phase("cycle", lambda s, now: s.run_cycle(now))
register_phase(
    "close",
    lambda s, now, position_id, reason="operator": s.close_position(
        uuid.UUID(position_id), reason, now
    ),
)


def run_phase(
    task: Task[..., Any],
    strategy_name: object,
    phase: str,
    trigger: object = "beat",
    reason: object = None,
    **arguments: object,
) -> dict[str, Any]:
    """Check the message's arguments (a refusal is recorded, then raised), then run the
    phase under the strategy's lock or leave it to the holder."""
    runtime = task_runtime()
    try:
        name = check.strategy_name(runtime, strategy_name)
        said = check.trigger(trigger)
        why = check.reason(reason)
        checked: dict[str, Any] = {}
        if "position_id" in arguments:
            checked["position_id"] = check.position_id(
                arguments["position_id"], required=phase == "close"
            )
        if phase in ("rebalance", "close") and (why is not None or phase == "close"):
            checked["reason"] = why if why is not None else "operator"
    except TaskArgumentError as exc:
        record_refusal(runtime, task, phase, str(exc), strategy_name, trigger)
        raise
    if phase == "rebalance" and checked.get("position_id") is None:
        checked.pop("position_id", None)
    request = PhaseRequest(
        strategy_name=name,
        phase=phase,
        task_name=task.name,
        trigger=said,
        arguments=checked,
        task_id=getattr(task.request, "id", None),
        reason=why,
    )
    return run_requested(runtime, task, request)


_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "queue": "strategy",
    "base": StrategyTask,
    "typing": False,  # a misfit message is refused (and recorded) by the worker, not the sender
}


@app.task(name="perpbot.strategy.monitor", **_OPTIONS)
def monitor(self: Task[..., Any], strategy_name: str, trigger: str = "beat") -> dict[str, Any]:
    return run_phase(self, strategy_name, "monitor", trigger)


@app.task(name="perpbot.strategy.rebalance", **_OPTIONS)
def rebalance(
    self: Task[..., Any],
    strategy_name: str,
    position_id: str | None = None,
    reason: str | None = None,
    trigger: str = "beat",
) -> dict[str, Any]:
    return run_phase(self, strategy_name, "rebalance", trigger, reason, position_id=position_id)


@app.task(name="perpbot.strategy.open", **_OPTIONS)
def open_positions(
    self: Task[..., Any], strategy_name: str, trigger: str = "beat"
) -> dict[str, Any]:
    return run_phase(self, strategy_name, "open", trigger)


@app.task(name="perpbot.strategy.transfers", **_OPTIONS)
def process_transfers(
    self: Task[..., Any], strategy_name: str, trigger: str = "beat"
) -> dict[str, Any]:
    return run_phase(self, strategy_name, "transfers", trigger)


@app.task(name="perpbot.strategy.cycle", **_OPTIONS)
def run_cycle(self: Task[..., Any], strategy_name: str, trigger: str = "beat") -> dict[str, Any]:
    return run_phase(self, strategy_name, "cycle", trigger)


@app.task(name="perpbot.strategy.close", **_OPTIONS)
def close_position(
    self: Task[..., Any], strategy_name: str, position_id: str, reason: str = "operator"
) -> dict[str, Any]:
    return run_phase(self, strategy_name, "close", "manual", reason, position_id=position_id)


@app.task(name="perpbot.strategy.watchdog", **{**_OPTIONS, "ignore_result": True})
def watchdog(self: Task[..., Any], strategy_name: str) -> dict[str, Any]:
    """Repair now any position of the strategy left unfinished (a naked leg): a cheap
    look in PostgreSQL every few seconds, a repair phase only when there is one."""
    runtime = task_runtime()
    name = check.strategy_name(runtime, strategy_name)
    with unit_of_work(runtime.engine) as session:
        unfinished, changed = session.execute(
            select(func.count(), func.max(StrategyPosition.updated_at)).where(
                StrategyPosition.strategy_name == name,
                StrategyPosition.status.in_([s.value for s in UNFINISHED]),
            )
        ).one()
        last = session.scalar(
            select(func.max(TaskRun.started_at)).where(
                TaskRun.strategy_name == name,
                TaskRun.trigger == "watchdog",
                TaskRun.status != "deferred",
            )
        )
    if not unfinished:
        return {"strategy": name, "unfinished": 0}
    now = runtime.clock.now()
    if last is not None and changed < last and now - last < WATCHDOG_REPEAT:
        # The last repair saw these positions as they are (one waits on an order in doubt,
        # or a venue): try again later, not every tick.
        return {"strategy": name, "unfinished": unfinished, "waiting_since": last.isoformat()}
    request = PhaseRequest(name, "repair", self.name, "watchdog", {}, self.request.id)
    return {"unfinished": unfinished, **run_requested(runtime, self, request)}


# Past the hard time limit plus this, a run still `running` has no live worker.
SWEEP_GRACE_SECONDS = 60


@app.task(name="perpbot.maintenance.sweep_runs", acks_late=True, ignore_result=True)
def sweep_runs() -> dict[str, Any]:
    """Close the runs a dead worker left `running` whose message will not come back."""
    runtime = task_runtime()
    limit = timedelta(seconds=runtime.settings.task_time_limit + SWEEP_GRACE_SECONDS)
    now = runtime.clock.now()
    with unit_of_work(runtime.engine) as session:
        closed = TaskRunRepository(session).sweep_expired(now - limit, now)
    if closed:
        logger.warning("runs-sweep: closed %d runs left running by dead workers", len(closed))
    return {"closed": [str(i) for i in closed]}


# Pause winds the strategy down under its lock; a phase holds the lock at most its hard time
# limit, so retrying this often, that long, always finds it free in the end.
WIND_DOWN_RETRY_SECONDS = 2


@app.task(
    name="perpbot.strategy.pause",
    bind=True,
    acks_late=True,
    queue="strategy",
    base=StrategyTask,
    typing=False,
)
def pause(self: Task[..., Any], strategy_name: str, reason: str | None = None) -> dict[str, Any]:
    """No new exposure for a strategy until `resume`: its phases that open are skipped, the
    others run guarded. Recorded at once (a phase already running finishes as it started);
    then, under the strategy's lock, the strategy is wound down as a stop does, which
    cancels resting orders that would add exposure (a grid's opens; take-profits stay).
    Idempotent."""
    runtime = task_runtime()
    strategy_name, reason = _checked_control(runtime, self, strategy_name, reason)
    if not self.request.retries:
        _set_paused(runtime, strategy_name, True, reason)
    with strategy_lock(runtime.engine, strategy_name) as held:
        if not held:
            limit = runtime.settings.task_time_limit // WIND_DOWN_RETRY_SECONDS + 1
            raise self.retry(countdown=WIND_DOWN_RETRY_SECONDS, max_retries=limit)
        blocked = runtime.exposure_block(strategy_name)
        if blocked is not None:  # not resumed meanwhile
            runtime.build(strategy_name, no_new_exposure=blocked).stop()
    run_waiting(runtime, self, strategy_name)
    return {"strategy": strategy_name, "paused": True}


def _checked_control(
    runtime: Runtime, task: Task[..., Any], strategy_name: object, reason: object
) -> tuple[str, str | None]:
    try:
        return check.strategy_name(runtime, strategy_name), check.reason(reason)
    except TaskArgumentError as exc:
        record_refusal(runtime, task, task.name.rsplit(".", 1)[-1], str(exc), strategy_name)
        raise


@app.task(
    name="perpbot.strategy.resume",
    bind=True,
    acks_late=True,
    queue="strategy",
    base=StrategyTask,
    typing=False,
)
def resume(self: Task[..., Any], strategy_name: str, reason: str | None = None) -> dict[str, Any]:
    """Let a paused strategy take new exposure again (its next open/cycle phase runs)."""
    runtime = task_runtime()
    strategy_name, reason = _checked_control(runtime, self, strategy_name, reason)
    _set_paused(runtime, strategy_name, False, reason)
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

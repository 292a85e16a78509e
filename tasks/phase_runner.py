"""Running a strategy's phases under its lock, with nothing due ever dropped.

One strategy never runs two phases at once: every phase takes the strategy's advisory lock
(`db.locks.strategy_lock`). A phase that finds the lock taken does not vanish (the first
build dropped such ticks and starved `open` and `rebalance`, and left naked legs waiting for
a monitor that kept losing the lock): it is recorded in `pending_phases`, its run row says
`deferred`, and whoever holds the lock runs it before letting go, most urgent first
(`PRIORITY`: repair, monitor, close, rebalance, open/cycle, transfers), except that a
request waiting longer than `AGING_SECONDS` goes before fresher ones (only repair goes
before it), so that under overload a steady stream of monitors cannot starve `open`. A
phase more urgent than the holder's own runs before it.

Closing the race between "the holder found nothing waiting" and "a request came in": the
holder looks again *after* releasing, and a requester tries the lock again *after* writing
its request. Whichever comes second sees the other, so a request waits at most for the
phases ahead of it, never for the next beat tick. A holder works through waiting phases
for at most `DRAIN_BUDGET` of the soft time limit, so a task is never killed by its limit
for the others' sake; what is left waits for the next lock holder.

On its first phase of a strategy after start, a worker process runs the strategy's start-up
repair (`start()`: resume unfinished positions, reconcile the venues) under the lock, as a
run with the trigger `startup`.

What a phase asks for by returning it (`HaltRequested`: a venue position nobody opened) is
done here: the strategy is halted (`Runtime.halt`, persisted, alerted).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task

from db.locks import strategy_lock
from db.repositories.runs import PendingPhaseRepository, PendingRequest, TaskRunRepository
from db.uow import unit_of_work
from strategies.base_strategy import BaseStrategy, CycleResult, HaltRequested
from strategies.runtime import OPENING_PHASES, Runtime

logger = logging.getLogger(__name__)

# Lower runs first. Repair (the unhedged watchdog) before everything: a naked leg has a
# deadline; monitor next, because it repairs too and refreshes what the others read.
PRIORITY: Mapping[str, int] = {
    "repair": 0,
    "monitor": 10,
    "close": 20,
    "rebalance": 30,
    "open": 40,
    "cycle": 40,
    "transfers": 50,
}
DRAIN_BUDGET = 0.5  # of the soft time limit, spent at most on phases deferred by others
# A request that has waited this long goes before fresher, more urgent ones (only repair
# goes before it): under overload strict priority would starve `open` behind monitors.
AGING_SECONDS = 2.0
AGING = timedelta(seconds=AGING_SECONDS)
AFTER_RELEASE_ROUNDS = 3  # re-takes of the lock for requests that came in while letting go

Phase = Callable[..., Any]  # (strategy, now, **arguments) -> CycleResult | dict


@dataclass(frozen=True, slots=True)
class PhaseRequest:
    """One phase to run: which strategy, which phase, its arguments, who asked."""

    strategy_name: str
    phase: str
    task_name: str
    trigger: str
    arguments: Mapping[str, Any]
    task_id: str | None = None
    reason: str | None = None

    @property
    def priority(self) -> int:
        return PRIORITY[self.phase]


# phase name -> how to run it on a built strategy; the task modules register theirs.
PHASES: dict[str, Phase] = {}
_started: set[str] = set()  # strategies this process has run the start-up repair of
_started_lock = threading.Lock()


def register_phase(name: str, call: Phase) -> None:
    if name not in PRIORITY:
        raise ValueError(f"phase {name!r} has no priority")
    PHASES[name] = call


def run_requested(runtime: Runtime, task: Task[..., Any], request: PhaseRequest) -> dict[str, Any]:
    """Run `request` now if the strategy's lock is free, else leave it to the holder."""
    answer: dict[str, Any] | None = None
    try:
        with strategy_lock(runtime.engine, request.strategy_name) as held:
            if held:
                answer = _turn(runtime, task, request)
        if answer is None:
            answer = _defer(runtime, task, request)
    finally:  # even when this phase failed, what waits for the lock is not left behind
        run_waiting(runtime, task, request.strategy_name)
    return answer


def forget_started() -> None:
    """Run the start-up repair again on the next phase of each strategy (tests)."""
    with _started_lock:
        _started.clear()


# ---------------------------------------------------------------- under the lock


def _turn(runtime: Runtime, task: Task[..., Any], request: PhaseRequest) -> dict[str, Any]:
    """Holding the lock: start-up repair if due, more urgent waiting phases, this phase,
    then whatever else is waiting."""
    _start_once(runtime, task, request)
    deadline = _budget(runtime)
    _drain(runtime, task, request.strategy_name, deadline, below=request.priority)
    try:
        return _run(runtime, task, request)
    finally:
        _drain(runtime, task, request.strategy_name, deadline)


def _budget(runtime: Runtime) -> float:
    """Until when (`time.monotonic`) a holder may run others' phases: the time limits are
    real seconds, whatever the deployment's clock (the demo's runs 3600x faster)."""
    return time.monotonic() + runtime.settings.task_soft_time_limit * DRAIN_BUDGET


def _drain(
    runtime: Runtime,
    task: Task[..., Any],
    strategy_name: str,
    deadline: float,
    below: int | None = None,
) -> None:
    while time.monotonic() < deadline:
        with unit_of_work(runtime.engine) as session:
            waiting = PendingPhaseRepository(session).claim(
                strategy_name, below, stale_before=runtime.clock.now() - AGING
            )
        if waiting is None:
            return
        lag = (runtime.clock.now() - waiting.requested_at).total_seconds()
        try:
            _run(runtime, task, _from_waiting(waiting), deferred_seconds=lag)
        except Exception:  # recorded as failed in its own run row; the rest still run
            logger.exception("deferred %s %s failed", strategy_name, waiting.phase)


def run_waiting(runtime: Runtime, task: Task[..., Any], strategy_name: str) -> None:
    """After letting go of the strategy's lock (any holder, a pause's too): run what came
    in meanwhile, unless someone else took the lock (then they will)."""
    for _ in range(AFTER_RELEASE_ROUNDS):
        with unit_of_work(runtime.engine) as session:
            if not PendingPhaseRepository(session).waiting(strategy_name):
                return
        with strategy_lock(runtime.engine, strategy_name) as held:
            if not held:
                return  # the holder runs them before it lets go, then looks again
            _drain(runtime, task, strategy_name, _budget(runtime))


def _start_once(runtime: Runtime, task: Task[..., Any], request: PhaseRequest) -> None:
    name = request.strategy_name
    with _started_lock:
        if name in _started:
            return
    # Its own run row, not tied to the message (a message's runs are its phase's attempts).
    start = PhaseRequest(name, "repair", task.name, "startup", {}, None, "start-up")
    record = _record(start, task)
    with unit_of_work(runtime.engine) as session:
        run_id = TaskRunRepository(session).start(
            **{**record, "phase": "start"}, at=runtime.clock.now(), reason="start-up repair"
        )
    try:
        runtime.build(name, no_new_exposure=runtime.exposure_block(name)).start()
    except Exception as exc:  # the phase itself repairs first too; try again next time
        logger.exception("%s: start-up repair failed", name)
        _finish(runtime, run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
        return
    _finish(runtime, run_id, "succeeded", {})
    with _started_lock:
        _started.add(name)


def _run(
    runtime: Runtime,
    task: Task[..., Any],
    request: PhaseRequest,
    deferred_seconds: float | None = None,
) -> dict[str, Any]:
    """Run one phase (the lock is held), recorded in `task_runs`."""
    name = request.strategy_name
    record = _record(request, task)
    blocked = runtime.exposure_block(name)
    if blocked is not None and request.phase in OPENING_PHASES:
        return _skip(runtime, record, f"no new exposure: {blocked}")
    reason = request.reason
    if deferred_seconds is not None:
        reason = f"deferred {deferred_seconds:.1f}s behind another phase" + (
            f"; {reason}" if reason else ""
        )
    with unit_of_work(runtime.engine) as session:
        # The same request waiting is satisfied by this run.
        PendingPhaseRepository(session).discard(name, request.phase, dict(request.arguments))
        run_id = TaskRunRepository(session).start(**record, at=runtime.clock.now(), reason=reason)
    try:
        strategy = runtime.build(name, no_new_exposure=blocked)
        outcome = PHASES[request.phase](strategy, runtime.clock.now(), **request.arguments)
        _halt_if_asked(runtime, strategy, outcome)
        result = _jsonable(outcome)
    except Exception as exc:
        logger.exception("%s %s failed", name, request.phase)
        _finish(runtime, run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
        raise
    _finish(runtime, run_id, "failed" if result.get("error") else "succeeded", result)
    return {"strategy": name, "phase": request.phase, "skipped": False, **result}


def _halt_if_asked(runtime: Runtime, strategy: BaseStrategy[Any], outcome: object) -> None:
    if not isinstance(outcome, CycleResult):
        return
    for action in outcome.actions:
        if isinstance(action, HaltRequested):
            logger.error("%s halts: %s", strategy.name, action.reason)
            runtime.halt(action.strategy_name, action.rule, action.reason)


# ---------------------------------------------------------------- without the lock


def _defer(runtime: Runtime, task: Task[..., Any], request: PhaseRequest) -> dict[str, Any]:
    why = "another phase of this strategy holds the lock; it runs this one before letting go"
    with unit_of_work(runtime.engine) as session:
        PendingPhaseRepository(session).defer(
            PendingRequest(
                strategy_name=request.strategy_name,
                phase=request.phase,
                arguments=dict(request.arguments),
                priority=request.priority,
                trigger=request.trigger,
                task_name=request.task_name,
                task_id=request.task_id,
                requested_at=runtime.clock.now(),
            )
        )
        TaskRunRepository(session).start(
            **_record(request, task), at=runtime.clock.now(), reason=why, status="deferred"
        )
    logger.info("%s %s deferred: %s", request.strategy_name, request.phase, why)
    return {
        "strategy": request.strategy_name,
        "phase": request.phase,
        "skipped": False,
        "deferred": True,
        "reason": why,
    }


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


# ---------------------------------------------------------------- helpers


def _record(request: PhaseRequest, task: Task[..., Any]) -> dict[str, Any]:
    """The keyword arguments of `TaskRunRepository.start` for `request`."""
    return {
        "task_name": request.task_name,
        "strategy_name": request.strategy_name,
        "phase": request.phase,
        "trigger": request.trigger,
        "task_id": request.task_id,
        "worker": f"{socket.gethostname()}:{getattr(task.request, 'hostname', '') or ''}",
    }


def _from_waiting(waiting: PendingRequest) -> PhaseRequest:
    return PhaseRequest(
        strategy_name=waiting.strategy_name,
        phase=waiting.phase,
        task_name=waiting.task_name,
        trigger=waiting.trigger,
        arguments=waiting.arguments,
        task_id=None,  # its own task already finished (deferred): this run is the holder's
        reason=waiting.arguments.get("reason"),
    )


def _finish(runtime: Runtime, run_id: Any, status: str, result: dict[str, Any]) -> None:
    with unit_of_work(runtime.engine) as session:
        TaskRunRepository(session).finish(run_id, status, result, runtime.clock.now())


def _jsonable(result: Any) -> dict[str, Any]:
    if hasattr(result, "to_json"):
        return dict(result.to_json())
    if isinstance(result, dict):
        return result
    return {"result": str(result)}

"""Fund-transfer tasks on the `transfers` queue: one task per step, plus the sweep.

A step task takes the transfer id and runs that step (`TransferManager.advance`, on the
manager the runtime built for this process); the manager enqueues the next step after its
commit (`transfer_dispatch.CeleryStepDispatcher`), so the steps form a chain without Celery
canvas. Transient trouble is retried with exponential backoff and jitter; when the retries
are used up the step gives up (FAILED where the money rests, or NEEDS_RECONCILE if a send is
in doubt). Every task is idempotent: a redelivered or duplicated message finds the step done
and does nothing. Long waits are polled by `transfers-sweep` (beat), never held as countdowns.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery import Task
from celery.utils.log import get_task_logger
from sqlalchemy.exc import OperationalError

from core.errors import ConcurrencyConflictError
from strategies.components.transfer_types import TransferStep, TransientTransferError
from tasks import app
from tasks.transfer_dispatch import STEP_TASKS, TRANSFERS_QUEUE, task_runtime

logger = get_task_logger(__name__)

SWEEP_TASK = "perpbot.transfers.sweep"

# How often beat fires the sweep (the lead's beat schedule reads it from settings).
DEFAULT_SWEEP_SECONDS = 30.0

# A database that restarts or a row that changed under us is as transient as a busy venue.
RETRY_ON = (TransientTransferError, OperationalError, ConcurrencyConflictError)
STEP_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "ignore_result": True,  # the outcome is in fund_transfers; results would only fill Redis
    "queue": TRANSFERS_QUEUE,
    "autoretry_for": RETRY_ON,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
# A bridge protocol can be down for a while: more patience before the transfer fails.
BRIDGE_OPTIONS: dict[str, Any] = {**STEP_OPTIONS, "max_retries": 10}


def run_step(task: Task[..., Any], step: TransferStep, transfer_id: str) -> dict[str, Any]:
    """Advance one step; on the last retry, a transient failure gives the step up."""
    manager = task_runtime().transfer_manager
    identifier = uuid.UUID(transfer_id)
    try:
        outcome = manager.advance(step, identifier)
    except RETRY_ON as exc:
        if task.request.retries < (task.max_retries or 0):
            logger.info("transfer %s %s: %s (will retry)", transfer_id, step.value, exc)
            raise  # autoretry_for schedules the retry with backoff and jitter
        outcome = manager.give_up(step, identifier, str(exc))
    logger.info("transfer %s %s: %s %s", transfer_id, step.value, outcome.action, outcome.detail)
    return outcome.to_json()


@app.task(name=STEP_TASKS[TransferStep.WITHDRAW], **STEP_OPTIONS)
def withdraw(self: Task[..., Any], transfer_id: str) -> dict[str, Any]:
    """Withdraw from the source venue to our wallet on its chain (or poll the withdrawal)."""
    return run_step(self, TransferStep.WITHDRAW, transfer_id)


@app.task(name=STEP_TASKS[TransferStep.BRIDGE], **BRIDGE_OPTIONS)
def bridge(self: Task[..., Any], transfer_id: str) -> dict[str, Any]:
    """Bridge from our wallet on the source chain to ours on the destination chain."""
    return run_step(self, TransferStep.BRIDGE, transfer_id)


@app.task(name=STEP_TASKS[TransferStep.DEPOSIT], **STEP_OPTIONS)
def deposit(self: Task[..., Any], transfer_id: str) -> dict[str, Any]:
    """Send from our wallet to the destination venue's deposit address; confirm the credit."""
    return run_step(self, TransferStep.DEPOSIT, transfer_id)


@app.task(name=SWEEP_TASK, acks_late=True, ignore_result=True, queue=TRANSFERS_QUEUE)
def sweep() -> dict[str, Any]:
    """Enqueue the step of every transfer that is due: waiting on a venue, bridge or chain,
    or stuck (its message was lost) past the policy's `stuck_seconds`."""
    dispatched = task_runtime().transfer_manager.sweep()
    if dispatched:
        logger.info("transfers-sweep: resumed %d transfers", len(dispatched))
    return {"dispatched": [[str(i), step.value] for i, step in dispatched]}

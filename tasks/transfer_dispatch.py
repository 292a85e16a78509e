"""Celery step dispatch for fund transfers: the task names, the queue, the dispatcher.

The transfer manager enqueues each step through a `StepDispatcher` (an interface in
`strategies/components/transfer_types.py`); this is the Celery one, enqueuing by task name so
the sender needs no task module. The runtime receives it by injection (`task_runtime`), so
`strategies/` never imports `tasks/` or Celery. A process that never gets one (the in-process
runner) stores each transfer due now and leaves it to the `transfers-sweep` task.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from strategies.components.transfer_types import TransferStep
from strategies.runtime import Runtime, get_runtime
from tasks import app

TRANSFERS_QUEUE = "transfers"
STEP_TASKS: Mapping[TransferStep, str] = {
    TransferStep.WITHDRAW: "perpbot.transfers.withdraw",
    TransferStep.BRIDGE: "perpbot.transfers.bridge",
    TransferStep.DEPOSIT: "perpbot.transfers.deposit",
}


class TaskSender(Protocol):
    def send_task(self, name: str, args: Any = None, **options: Any) -> Any: ...


@dataclass(frozen=True)
class CeleryStepDispatcher:
    """Enqueues a step as its Celery task on the `transfers` queue (by task name)."""

    sender: TaskSender

    def dispatch(self, step: TransferStep, transfer_id: uuid.UUID) -> None:
        self.sender.send_task(STEP_TASKS[step], args=[str(transfer_id)], queue=TRANSFERS_QUEUE)


def task_runtime() -> Runtime:
    """This process's runtime, with transfer steps enqueued on Celery: what the tasks that
    build strategies or transfer managers, and the CLI's transfer commands, use."""
    runtime = get_runtime()
    runtime.use_step_dispatcher(CeleryStepDispatcher(app))
    return runtime

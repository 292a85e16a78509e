"""Manual operations: what an operator asks for, sent as the same Celery tasks beat fires.

The CLI (`trading_bot.py pause|resume|close|rebalance|halt`) and the dashboard both enqueue
through `enqueue`, so a pause from the browser is exactly the `perpbot.strategy.pause` task
the CLI sends, and runs under the same strategy lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from celery.result import AsyncResult


class ManualAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"
    REBALANCE = "rebalance"
    HALT = "halt"  # a manual circuit-breaker halt; the strategy may be "*" (all)


TASK_NAMES = {
    ManualAction.PAUSE: "perpbot.strategy.pause",
    ManualAction.RESUME: "perpbot.strategy.resume",
    ManualAction.CLOSE: "perpbot.strategy.close",
    ManualAction.REBALANCE: "perpbot.strategy.rebalance",
    ManualAction.HALT: "perpbot.strategy.halt",
}
ALL_STRATEGIES = "*"  # the scope of a global halt


def position_uuid(value: str) -> uuid.UUID:
    """`value` as a position id; a `ValueError` naming it otherwise."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a position id (a UUID)") from None


@dataclass(frozen=True, slots=True)
class ManualRequest:
    action: ManualAction
    strategy: str
    position_id: uuid.UUID | None = None  # required to close; optional to rebalance
    reason: str | None = None
    close_hedged: bool = False  # halt only: also close every open position

    def __post_init__(self) -> None:
        if self.action is ManualAction.CLOSE and self.position_id is None:
            raise ValueError("close needs the id of the position to close")
        if self.position_id is not None and self.action in (
            ManualAction.PAUSE,
            ManualAction.RESUME,
            ManualAction.HALT,
        ):
            raise ValueError(f"{self.action} applies to a whole strategy, not to a position")
        if self.close_hedged and self.action is not ManualAction.HALT:
            raise ValueError(f"{self.action} does not close positions; only halt may")
        if self.strategy == ALL_STRATEGIES and self.action is not ManualAction.HALT:
            raise ValueError(f"{self.action} needs one strategy's name; only halt takes all")

    @property
    def task_name(self) -> str:
        return TASK_NAMES[self.action]

    def task_call(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The task's positional and keyword arguments."""
        if self.action is ManualAction.CLOSE:
            return (self.strategy, str(self.position_id)), {"reason": self.reason or "operator"}
        if self.action is ManualAction.REBALANCE:
            kwargs: dict[str, Any] = {"reason": self.reason, "trigger": "manual"}
            if self.position_id is not None:
                kwargs["position_id"] = str(self.position_id)
            return (self.strategy,), kwargs
        if self.action is ManualAction.HALT:
            return (self.strategy,), {"reason": self.reason, "close_hedged": self.close_hedged}
        return (self.strategy,), {"reason": self.reason}


def enqueue(request: ManualRequest) -> AsyncResult[Any]:
    """Check the strategy is configured (`ConfigError` naming it) and the database is of this
    process's mode (`db.deployment`: a paper process never commands a live database's
    strategies, nor the reverse), then send the task."""
    from db.deployment import check_deployment_mode
    from strategies.runtime import get_runtime
    from tasks import app

    runtime = get_runtime()
    if request.strategy != ALL_STRATEGIES:
        runtime.config(request.strategy)
    settings = runtime.settings
    check_deployment_mode(runtime.engine, settings.deployment_mode, "this command")
    args, kwargs = request.task_call()
    return app.send_task(request.task_name, args=args, kwargs=kwargs)

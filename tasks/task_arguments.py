"""Checking what a strategy task was sent, and leaving a record when it is refused.

Anyone who can write to the broker can send a task message: the CLI, the dashboard, an
operator's script, a typo. A malformed one (a strategy that is not configured, a position
id that is not a UUID or not a string, a trigger that means nothing, arguments missing or
extra) is refused with a message naming the argument, and the refusal is written to
`task_runs` as a failed run, so it shows in `status` and the dashboard, not only in a
result that expires from Redis.
"""

from __future__ import annotations

import inspect
import logging
import socket
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from celery import Task

from core.errors import ConfigError, PerpbotError
from db.repositories.runs import TaskRunRepository
from db.uow import unit_of_work
from strategies.runtime import Runtime

logger = logging.getLogger(__name__)

# What a message may say about who sent it (the task layer adds `startup` and `watchdog`
# for the runs it starts itself).
SENDER_TRIGGERS = ("beat", "manual")
REASON_MAX = 500
NAME_MAX = 50


class TaskArgumentError(PerpbotError, ValueError):
    """A task message that cannot be carried out as sent; the message names the argument."""


def strategy_name(runtime: Runtime, value: object) -> str:
    if not isinstance(value, str):
        raise TaskArgumentError(
            f"strategy_name must be a string, got {type(value).__name__} {value!r}"
        )
    try:
        runtime.config(value)
    except ConfigError as exc:
        raise TaskArgumentError(f"strategy_name: {exc}") from None
    return value


def trigger(value: object) -> str:
    if not isinstance(value, str) or value not in SENDER_TRIGGERS:
        raise TaskArgumentError(
            f"trigger must be one of {', '.join(SENDER_TRIGGERS)}, got {value!r}"
        )
    return value


def position_id(value: object, required: bool = False) -> str | None:
    """The position id as its canonical text (a UUID), or None when not given."""
    if value is None:
        if required:
            raise TaskArgumentError("position_id is required: the id of the position (a UUID)")
        return None
    if not isinstance(value, str):
        raise TaskArgumentError(
            f"position_id must be a string (a UUID), got {type(value).__name__} {value!r}"
        )
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise TaskArgumentError(f"position_id {value!r} is not a UUID") from None


def reason(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TaskArgumentError(f"reason must be a string, got {type(value).__name__} {value!r}")
    if len(value) > REASON_MAX:
        raise TaskArgumentError(f"reason is {len(value)} characters long (at most {REASON_MAX})")
    return value


def record_refusal(
    runtime: Runtime,
    task: Task[..., Any],
    phase: str | None,
    message: str,
    sent_strategy: object = None,
    sent_trigger: object = None,
) -> None:
    """A failed `task_runs` row for a refused message, naming what was wrong."""
    name = (
        sent_strategy if isinstance(sent_strategy, str) and len(sent_strategy) <= NAME_MAX else None
    )
    said = sent_trigger if sent_trigger in SENDER_TRIGGERS else "manual"
    now = runtime.clock.now()
    try:
        with unit_of_work(runtime.engine) as session:
            run_id = TaskRunRepository(session).start(
                task_name=task.name,
                strategy_name=name,
                phase=phase,
                trigger=str(said),
                at=now,
                task_id=getattr(task.request, "id", None),
                worker=f"{socket.gethostname()}:{getattr(task.request, 'hostname', '') or ''}",
                reason=f"refused: {message}",
                status="failed",
            )
            TaskRunRepository(session).finish(run_id, "failed", {"error": message}, now)
    except Exception:  # the database being down must not hide the refusal itself
        logger.exception("could not record the refusal of %s: %s", task.name, message)


def binding_error(
    task: Task[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> str | None:
    """Why `args`/`kwargs` do not fit the task's signature (missing or extra), or None."""
    try:
        inspect.signature(task.run).bind(*args, **kwargs)
    except TypeError as exc:
        return f"{task.name}: {exc}"
    return None


# Celery's Task is generic only in its stubs (celery-types); subscripted, it fails at run time.
class StrategyTask(Task):  # type: ignore[type-arg]  # generic in the stubs only (above)
    """The base of strategy tasks: a message whose arguments do not even fit the task's
    signature (Celery raises before the body runs) is recorded as a failed run too."""

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        if not isinstance(exc, TypeError):
            return  # the body records its own failures (a refused argument, a failed phase)
        message = binding_error(self, args, kwargs)
        if message is None:
            return
        from tasks.transfer_dispatch import task_runtime

        phase = self.name.rsplit(".", 1)[-1]
        sent = args[0] if args else kwargs.get("strategy_name")
        record_refusal(task_runtime(), self, phase, message, sent, kwargs.get("trigger"))

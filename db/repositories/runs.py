"""`task_runs`, `strategy_controls` and `pending_phases`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import PendingPhase, StrategyControl, TaskRun
from db.repositories.halts import HaltRepository


class TaskRunRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def start(
        self,
        task_name: str,
        strategy_name: str | None,
        phase: str | None,
        trigger: str,
        *,
        at: datetime,
        task_id: str | None = None,
        worker: str | None = None,
        reason: str | None = None,
        status: str = "running",
    ) -> uuid.UUID:
        """Record a run starting `at` (the deployment's clock, like every domain time)."""
        if task_id is not None and status == "running":
            # A redelivered message: the run its dead worker started will never finish.
            self._session.execute(
                update(TaskRun)
                .where(TaskRun.task_id == task_id, TaskRun.status == "running")
                .values(
                    status="failed",
                    reason="worker lost before finishing; the task was redelivered",
                    finished_at=at,
                )
            )
        run = TaskRun(
            id=uuid.uuid4(),
            task_id=task_id,
            task_name=task_name,
            strategy_name=strategy_name,
            phase=phase,
            trigger=trigger,
            status=status,
            reason=reason,
            worker=worker,
            started_at=at,
        )
        if status != "running":
            run.finished_at = at
        self._session.add(run)
        self._session.flush()
        return run.id

    def finish(self, run_id: uuid.UUID, status: str, result: dict[str, Any], at: datetime) -> None:
        self._session.execute(
            update(TaskRun)
            .where(TaskRun.id == run_id)
            .values(status=status, result=result, finished_at=at)
        )

    def sweep_expired(self, started_before: datetime, at: datetime) -> list[uuid.UUID]:
        """Close every run still `running` that started before `started_before` (no task
        runs longer than its hard time limit: its worker died and the message is gone)."""
        return list(
            self._session.scalars(
                update(TaskRun)
                .where(TaskRun.status == "running", TaskRun.started_at < started_before)
                .values(
                    status="failed",
                    reason="no worker finished it within the hard time limit "
                    "(its worker died and the message was not redelivered)",
                    finished_at=at,
                )
                .returning(TaskRun.id)
            )
        )

    def recent(self, limit: int = 20, strategy_name: str | None = None) -> Sequence[TaskRun]:
        query = select(TaskRun).order_by(TaskRun.started_at.desc()).limit(limit)
        if strategy_name is not None:
            query = query.where(TaskRun.strategy_name == strategy_name)
        return self._session.scalars(query).all()


class ControlRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def exposure_block(self, strategy_name: str) -> str | None:
        """Why the strategy may take no new exposure now, or None: the one question the
        exposure guard asks (`tasks/strategy_tasks.py`, the runtime). A halt (a tripped
        circuit breaker, its own or the global one) answers first, then a pause."""
        halt = HaltRepository(self._session).active(strategy_name)
        if halt is not None:
            return halt.describe()
        control = self._session.get(StrategyControl, strategy_name)
        if control is None or not control.paused:
            return None
        because = f": {control.reason}" if control.reason else ""
        return f"strategy {strategy_name} is paused{because}"

    def set_paused(self, strategy_name: str, paused: bool, reason: str | None) -> None:
        self._session.execute(
            insert(StrategyControl)
            .values(strategy_name=strategy_name, paused=paused, reason=reason)
            .on_conflict_do_update(
                index_elements=["strategy_name"],
                set_={"paused": paused, "reason": reason, "updated_at": func.now()},
            )
        )

    def all(self) -> dict[str, StrategyControl]:
        return {c.strategy_name: c for c in self._session.scalars(select(StrategyControl))}


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A deferred phase, as its requester left it."""

    strategy_name: str
    phase: str
    arguments: dict[str, Any]
    priority: int
    trigger: str
    task_name: str
    task_id: str | None
    requested_at: datetime


def arguments_key(arguments: dict[str, Any]) -> str:
    """The canonical text of a phase's arguments: equal arguments, equal requests."""
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"))


class PendingPhaseRepository:
    """Phases due while their strategy's lock was held (`tasks/strategy_tasks.py`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def defer(self, request: PendingRequest) -> None:
        """Remember `request`; the same request already waiting keeps its first time."""
        self._session.execute(
            insert(PendingPhase)
            .values(
                id=uuid.uuid4(),
                strategy_name=request.strategy_name,
                phase=request.phase,
                arguments=request.arguments,
                arguments_key=arguments_key(request.arguments),
                priority=request.priority,
                trigger=request.trigger,
                task_name=request.task_name,
                task_id=request.task_id,
                requested_at=request.requested_at,
            )
            .on_conflict_do_nothing(index_elements=["strategy_name", "phase", "arguments_key"])
        )

    def claim(
        self,
        strategy_name: str,
        below_priority: int | None = None,
        stale_before: datetime | None = None,
    ) -> PendingRequest | None:
        """Take the most urgent waiting request of the strategy, removing it: repair (priority
        0) first, then any requested before `stale_before` (waited too long), then by priority
        and age; only those more urgent than `below_priority` if given. Call it while
        holding the strategy's lock."""
        query = select(PendingPhase.id).where(PendingPhase.strategy_name == strategy_name)
        if below_priority is not None:
            query = query.where(PendingPhase.priority < below_priority)
        tier = case((PendingPhase.priority == 0, 0), else_=2)
        if stale_before is not None:
            tier = case(
                (PendingPhase.priority == 0, 0),
                (PendingPhase.requested_at < stale_before, 1),
                else_=2,
            )
        first = query.order_by(tier, PendingPhase.priority, PendingPhase.requested_at).limit(1)
        row = self._session.scalars(
            delete(PendingPhase)
            .where(PendingPhase.id == first.scalar_subquery())
            .returning(PendingPhase)
        ).one_or_none()
        if row is None:
            return None
        return PendingRequest(
            strategy_name=row.strategy_name,
            phase=row.phase,
            arguments=dict(row.arguments),
            priority=row.priority,
            trigger=row.trigger,
            task_name=row.task_name,
            task_id=row.task_id,
            requested_at=row.requested_at,
        )

    def discard(self, strategy_name: str, phase: str, arguments: dict[str, Any]) -> None:
        """Forget a waiting request equal to one about to run (running it satisfies both)."""
        self._session.execute(
            delete(PendingPhase).where(
                PendingPhase.strategy_name == strategy_name,
                PendingPhase.phase == phase,
                PendingPhase.arguments_key == arguments_key(arguments),
            )
        )

    def waiting(self, strategy_name: str) -> int:
        return int(
            self._session.scalar(
                select(func.count())
                .select_from(PendingPhase)
                .where(PendingPhase.strategy_name == strategy_name)
            )
            or 0
        )

    def oldest(self, strategy_name: str) -> datetime | None:
        return self._session.scalar(
            select(func.min(PendingPhase.requested_at)).where(
                PendingPhase.strategy_name == strategy_name
            )
        )


__all__ = [
    "ControlRepository",
    "PendingPhaseRepository",
    "PendingRequest",
    "TaskRunRepository",
    "arguments_key",
]

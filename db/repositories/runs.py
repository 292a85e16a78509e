"""`task_runs` and `strategy_controls`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import StrategyControl, TaskRun
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

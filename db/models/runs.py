"""`task_runs` (one row per strategy/maintenance task execution), `strategy_controls`
(operator switches such as pause) and `pending_phases` (phases due but deferred because
another phase of the strategy held its lock: the holder runs them before it lets go)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

TASK_RUN_STATUSES = ("running", "succeeded", "failed", "skipped", "deferred")
TASK_RUN_TRIGGERS = ("beat", "manual", "startup", "watchdog")


class TaskRun(Base):
    __tablename__ = "task_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    task_id: Mapped[str | None] = mapped_column(String(64))
    task_name: Mapped[str] = mapped_column(String(64))
    strategy_name: Mapped[str | None] = mapped_column(String(50))
    phase: Mapped[str | None] = mapped_column(String(24))
    trigger: Mapped[str] = mapped_column(String(16), server_default="beat")
    status: Mapped[str] = mapped_column(String(16), server_default="running")
    reason: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))
    result: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    started_at: Mapped[datetime]  # from the deployment's clock: no server default
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in TASK_RUN_STATUSES) + ")", name="status"
        ),
        CheckConstraint(
            "trigger IN (" + ", ".join(f"'{t}'" for t in TASK_RUN_TRIGGERS) + ")", name="trigger"
        ),
        Index("ix_task_runs_strategy_started", "strategy_name", "started_at"),
    )


class StrategyControl(Base):
    __tablename__ = "strategy_controls"

    strategy_name: Mapped[str] = mapped_column(String(50), primary_key=True)
    paused: Mapped[bool] = mapped_column(server_default=text("false"))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class PendingPhase(Base):
    """A phase that was due while another phase of its strategy held the lock. One row per
    (strategy, phase, arguments): a second request while it waits is the same request."""

    __tablename__ = "pending_phases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str] = mapped_column(String(50))
    phase: Mapped[str] = mapped_column(String(24))
    # The phase's own arguments (a manual rebalance's position id and reason), and their
    # canonical JSON text, which is what makes two requests the same.
    arguments: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    arguments_key: Mapped[str] = mapped_column(Text, server_default="{}")
    priority: Mapped[int]
    trigger: Mapped[str] = mapped_column(String(16))
    task_name: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime]  # from the deployment's clock

    __table_args__ = (
        Index(
            "uq_pending_phases_request",
            "strategy_name",
            "phase",
            "arguments_key",
            unique=True,
        ),
    )

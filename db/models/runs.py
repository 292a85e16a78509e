"""`task_runs` (one row per strategy/maintenance task execution) and `strategy_controls`
(operator switches such as pause)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

TASK_RUN_STATUSES = ("running", "succeeded", "failed", "skipped")


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
        CheckConstraint("trigger IN ('beat', 'manual', 'startup')", name="trigger"),
        Index("ix_task_runs_strategy_started", "strategy_name", "started_at"),
    )


class StrategyControl(Base):
    __tablename__ = "strategy_controls"

    strategy_name: Mapped[str] = mapped_column(String(50), primary_key=True)
    paused: Mapped[bool] = mapped_column(server_default=text("false"))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

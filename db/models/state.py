"""`strategy_state`: a strategy's persisted state as JSONB, versioned for optimistic writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class StrategyState(Base):
    __tablename__ = "strategy_state"

    strategy_name: Mapped[str] = mapped_column(String(50), primary_key=True)
    state_data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    last_updated: Mapped[datetime]  # from the writer's clock: no server default

    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

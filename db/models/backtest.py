"""`backtest_results`: one row per (sweep, combination), what that run's report piece is.

A sweep's Celery task writes its combination's row once (`ON CONFLICT DO NOTHING`), so a
task redelivered after a worker died stores nothing twice; the gatherer reads the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class BacktestResult(Base):
    __tablename__ = "backtest_results"

    sweep_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    combination: Mapped[str] = mapped_column(Text, primary_key=True)
    piece: Mapped[dict[str, Any]]  # the run's report piece (backtest.report.run_piece)
    worker: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]  # from the deployment's clock

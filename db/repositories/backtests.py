"""`backtest_results`: a sweep's stored report pieces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import BacktestResult


class BacktestResultRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def store(
        self,
        sweep_id: str,
        combination: str,
        piece: dict[str, Any],
        *,
        at: datetime,
        worker: str | None = None,
    ) -> bool:
        """Store a combination's piece once; False when it was already there (kept as is)."""
        stored = self._session.execute(
            insert(BacktestResult)
            .values(
                sweep_id=sweep_id,
                combination=combination,
                piece=piece,
                worker=worker,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["sweep_id", "combination"])
            .returning(BacktestResult.combination)
        ).first()
        return stored is not None

    def pieces(self, sweep_id: str) -> dict[str, dict[str, Any]]:
        """The stored pieces of a sweep by combination."""
        rows = self._session.execute(
            select(BacktestResult.combination, BacktestResult.piece).where(
                BacktestResult.sweep_id == sweep_id
            )
        ).all()
        return {combination: piece for combination, piece in rows}

    def workers(self, sweep_id: str) -> dict[str, str | None]:
        rows = self._session.execute(
            select(BacktestResult.combination, BacktestResult.worker).where(
                BacktestResult.sweep_id == sweep_id
            )
        ).all()
        return {combination: worker for combination, worker in rows}

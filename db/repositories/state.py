"""Optimistic-concurrency access to `strategy_state`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import ConcurrencyConflictError
from db.models import StrategyState


@dataclass(frozen=True)
class StateRecord:
    strategy_name: str
    data: dict[str, Any]
    version: int
    last_updated: datetime


class StateRepository:
    """Read and write a strategy's JSONB state; a stale write raises, it never overwrites."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, strategy_name: str) -> StateRecord | None:
        row = self._session.execute(
            select(StrategyState).where(StrategyState.strategy_name == strategy_name)
        ).scalar_one_or_none()
        if row is None:
            return None
        return StateRecord(row.strategy_name, dict(row.state_data), row.version, row.last_updated)

    def save(
        self, strategy_name: str, data: dict[str, Any], expected_version: int, at: datetime
    ) -> int:
        """Write `data` if the stored version is `expected_version` (0: no row yet), dated `at`
        (the writer's clock).

        Returns the new version. Raises `ConcurrencyConflictError` when another writer got
        there first; the caller re-reads and decides.
        """
        if expected_version == 0:
            inserted = self._session.execute(
                insert(StrategyState)
                .values(strategy_name=strategy_name, state_data=data, version=1, last_updated=at)
                .on_conflict_do_nothing(index_elements=[StrategyState.strategy_name])
                .returning(StrategyState.version)
            ).scalar_one_or_none()
            if inserted is None:
                raise self._conflict(strategy_name, expected_version)
            return 1
        new_version = self._session.execute(
            update(StrategyState)
            .where(
                StrategyState.strategy_name == strategy_name,
                StrategyState.version == expected_version,
            )
            .values(state_data=data, version=expected_version + 1, last_updated=at)
            .returning(StrategyState.version)
        ).scalar_one_or_none()
        if new_version is None:
            raise self._conflict(strategy_name, expected_version)
        return int(new_version)

    def delete(self, strategy_name: str) -> None:
        self._session.query(StrategyState).filter_by(strategy_name=strategy_name).delete()

    def _conflict(self, strategy_name: str, expected_version: int) -> ConcurrencyConflictError:
        current = self._session.execute(
            select(StrategyState.version).where(StrategyState.strategy_name == strategy_name)
        ).scalar_one_or_none()
        return ConcurrencyConflictError(
            f"strategy_state for {strategy_name!r}: expected version {expected_version}, "
            f"found {current if current is not None else 'no row'}; re-read and retry"
        )

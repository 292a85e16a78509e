"""The position side of "no new exposure": a position manager that opens nothing.

While a strategy may take no new exposure (it is paused; later, halted by a circuit breaker)
the runtime builds it with this manager and with reduce-only venue clients
(`exchanges/reduce_only.py`). Closing, reducing, monitoring and reconciling work as always;
`open` raises `NewExposureRefusedError` naming why, before any row or order exists. The
guard sits at the component boundary, so it holds for every strategy without any of them
knowing about it; a strategy that catches the error reports a refusal instead of a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from core.enums import PositionOperation, PositionStatus
from strategies.components.base_components import (
    AuditEvent,
    NewExposureRefusedError,
    NewPosition,
    PositionManager,
    PositionRecord,
    PositionUpdate,
)


class NoNewPositions:
    def __init__(self, positions: PositionManager, reason: str) -> None:
        self._positions = positions
        self.reason = reason

    def open(self, position: NewPosition) -> PositionRecord:
        raise NewExposureRefusedError(
            f"no new position on {position.symbol} {position.long_dex}/{position.short_dex}: "
            f"no new exposure may be taken ({self.reason})"
        )

    def get(self, position_id: uuid.UUID) -> PositionRecord | None:
        return self._positions.get(position_id)

    def update(
        self,
        position_id: uuid.UUID,
        changes: PositionUpdate,
        expected_version: int | None = None,
    ) -> PositionRecord:
        return self._positions.update(position_id, changes, expected_version)

    def mark_status(
        self,
        position_id: uuid.UUID,
        status: PositionStatus,
        reason: str | None = None,
        expected_version: int | None = None,
        operation: PositionOperation | None = None,
    ) -> PositionRecord:
        return self._positions.mark_status(
            position_id, status, reason, expected_version, operation=operation
        )

    def close(
        self,
        position_id: uuid.UUID,
        reason: str,
        realized_pnl_usd: Decimal,
        expected_version: int | None = None,
    ) -> PositionRecord:
        return self._positions.close(position_id, reason, realized_pnl_usd, expected_version)

    def find(
        self,
        strategy_name: str | None = None,
        statuses: Sequence[PositionStatus] | None = None,
        symbol: str | None = None,
    ) -> list[PositionRecord]:
        return self._positions.find(strategy_name, statuses, symbol)

    def find_active(self, strategy_name: str, symbol: str | None = None) -> list[PositionRecord]:
        return self._positions.find_active(strategy_name, symbol)

    def history(self, position_id: uuid.UUID) -> list[AuditEvent]:
        return self._positions.history(position_id)

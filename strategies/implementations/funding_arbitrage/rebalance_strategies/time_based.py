"""`time_based`: close a position held longer than the configured maximum."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import RebalanceDecision
from strategies.implementations.funding_arbitrage.models import PositionMarket
from strategies.implementations.funding_arbitrage.rebalance_strategies.base import (
    RebalanceStrategy,
)


class TimeBased(RebalanceStrategy):
    """Fires (CLOSE) once `now - opened_at >= max_hold_hours`."""

    policy_type = "time_based"

    def __init__(self, max_hold_hours: Decimal, priority: int) -> None:
        super().__init__(priority)
        self.max_hold = timedelta(hours=float(max_hold_hours))

    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        since = position.opened_at or position.created_at
        held = now - since
        summary = f"held {_hours(held)} h of at most {_hours(self.max_hold)} h"
        if held >= self.max_hold:
            return self.close(summary)
        return self.hold(summary)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.2f}"

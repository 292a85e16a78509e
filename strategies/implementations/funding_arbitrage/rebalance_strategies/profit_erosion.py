"""`profit_erosion`: close when the divergence has lost a share of what it was at entry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import RebalanceDecision
from strategies.implementations.funding_arbitrage.models import PositionMarket, apr
from strategies.implementations.funding_arbitrage.rebalance_strategies.base import (
    RebalanceStrategy,
    pct,
)


class ProfitErosion(RebalanceStrategy):
    """erosion = 1 - current / entry; fires (CLOSE) when erosion >= `min_erosion`.

    A divergence that turned negative has eroded by more than 100 % and fires too.
    """

    policy_type = "profit_erosion"

    def __init__(self, min_erosion: Decimal, priority: int) -> None:
        super().__init__(priority)
        self.min_erosion = min_erosion

    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        entry = position.entry_divergence
        current = market.divergence_hourly
        if current is None:
            return self.hold("no fresh funding rate for a leg: erosion unknown")
        if entry is None or entry <= 0:
            return self.hold("no positive divergence recorded at entry")
        erosion = 1 - current / entry
        summary = (
            f"divergence {pct(apr(current))} APR vs {pct(apr(entry))} at entry: "
            f"eroded {pct(erosion)} (threshold {pct(self.min_erosion)})"
        )
        if erosion >= self.min_erosion:
            return self.close(summary)
        return self.hold(summary)

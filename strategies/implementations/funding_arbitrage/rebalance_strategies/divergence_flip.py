"""`divergence_flip`: close when the divergence turned against us (we now pay funding)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from core.market import HOURS_PER_YEAR
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import RebalanceDecision
from strategies.implementations.funding_arbitrage.models import PositionMarket, apr
from strategies.implementations.funding_arbitrage.rebalance_strategies.base import (
    RebalanceStrategy,
    pct,
)


class DivergenceFlip(RebalanceStrategy):
    """Fires (CLOSE) when divergence <= -flip_margin (compared per hour)."""

    policy_type = "divergence_flip"

    def __init__(self, flip_margin_apr: Decimal, priority: int) -> None:
        super().__init__(priority)
        self.flip_margin_apr = flip_margin_apr

    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        current = market.divergence_hourly
        if current is None:
            return self.hold("no fresh funding rate for a leg: divergence unknown")
        threshold = -self.flip_margin_apr / HOURS_PER_YEAR
        summary = (
            f"divergence {pct(apr(current))} APR "
            f"(flips at or below {pct(-self.flip_margin_apr)} APR)"
        )
        if current <= threshold:
            return self.close(
                f"{summary}: short {position.short_dex} now pays less than long "
                f"{position.long_dex}",
            )
        return self.hold(summary)

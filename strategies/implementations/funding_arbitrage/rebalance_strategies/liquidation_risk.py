"""`liquidation_risk`: protect a leg that is getting close to its liquidation price.

For each leg the distance is |mark - liquidation price| / mark. The closest leg decides:
- below `critical_distance`: CLOSE the position;
- below `min_distance`: REDUCE both legs by `reduce_fraction`, or TOP_UP_MARGIN of that
  leg by the margin that brings it back to `min_distance` (on an isolated position the
  distance grows by about margin_added / notional).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_UP, Decimal

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import RebalanceDecision
from strategies.implementations.funding_arbitrage.models import LegState, PositionMarket
from strategies.implementations.funding_arbitrage.rebalance_strategies.base import (
    RebalanceStrategy,
    pct,
)

CENT = Decimal("0.01")


class LiquidationRisk(RebalanceStrategy):
    policy_type = "liquidation_risk"

    def __init__(
        self,
        min_distance: Decimal,
        critical_distance: Decimal,
        action: str,
        reduce_fraction: Decimal,
        priority: int,
    ) -> None:
        super().__init__(priority)
        self.min_distance = min_distance
        self.critical_distance = critical_distance
        self.action = action
        self.reduce_fraction = reduce_fraction

    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        measured = [
            (leg.liquidation_distance, leg)
            for leg in market.legs.values()
            if leg.liquidation_distance is not None
        ]
        if not measured:
            return self.hold("no liquidation price reported for either leg")
        distance, leg = min(measured, key=lambda item: (item[0], item[1].leg.value))
        where = f"{leg.leg.label} leg on {leg.venue} is {pct(distance)} from liquidation"
        if distance < self.critical_distance:
            return self.close(f"{where} (critical below {pct(self.critical_distance)})")
        if distance >= self.min_distance:
            return self.hold(f"{where} (acts below {pct(self.min_distance)})")
        reason = f"{where} (acts below {pct(self.min_distance)})"
        if self.action == "reduce":
            return self.reduce(self.reduce_fraction, reason)
        return self.top_up(leg.leg, self._top_up(leg, distance), reason)

    def _top_up(self, leg: LegState, distance: Decimal) -> Decimal:
        amount = (self.min_distance - distance) * leg.notional
        return max(amount.quantize(CENT, rounding=ROUND_UP), CENT)

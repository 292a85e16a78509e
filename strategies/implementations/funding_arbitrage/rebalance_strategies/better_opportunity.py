"""`better_opportunity`: switch to another pair when it earns more than switching costs.

Over the horizon H, on the position's notional N:

    gain = N * (d_new - d_now) * H          funding the switch adds
    cost = N * round_trip_cost_rate(new)    opening the new pair now and closing it later

and the position switches when `gain - cost > min_gain_usd`. Closing the current position
is not a cost of switching: it is paid either way (now when switching, later when the
position ends anyway). Counting "close now + open new" instead would under-price a switch
into expensive venues, whose closing fee is then forgotten.
"""

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


class BetterOpportunity(RebalanceStrategy):
    policy_type = "better_opportunity"

    def __init__(self, min_gain_usd: Decimal, priority: int) -> None:
        super().__init__(priority)
        self.min_gain_usd = min_gain_usd

    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        current = market.divergence_hourly
        if current is None:
            return self.hold("no fresh funding rate for a leg: cannot compare")
        own_key = (position.symbol, position.long_dex, position.short_dex)
        horizon, size = market.horizon_hours, position.size_usd
        best = None
        best_margin = Decimal(0)
        for alternative in market.alternatives:
            if alternative.key == own_key:
                continue
            gain = size * (alternative.divergence_hourly - current) * horizon
            cost = size * alternative.cost_rate
            margin = gain - cost - self.min_gain_usd
            if margin > best_margin:
                best, best_margin = alternative, margin
        if best is None:
            return self.hold(
                f"no pair beats {pct(apr(current))} APR by more than switching costs "
                f"over {horizon} h"
            )
        gain = size * (best.divergence_hourly - current) * horizon
        cost = size * best.cost_rate
        return self.switch(
            best,
            f"{best.symbol} long {best.long_venue} short {best.short_venue} at "
            f"{pct(best.apr)} APR vs {pct(apr(current))} now: +{gain:.2f} USD over "
            f"{horizon} h against {cost:.2f} USD of fees (min gain {self.min_gain_usd})",
        )

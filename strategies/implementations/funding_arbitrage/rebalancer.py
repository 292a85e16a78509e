"""The rebalance phase's decisions, as pure code: the configured policy per position.

For each open position, over a `RebalanceSnapshot`:

- a venue of the position that could not be read skips it (`PhaseSkipped`);
- otherwise the policy (`rebalance_strategies/`, pure) evaluates what it sees
  (`PositionMarket`: the legs as the venues report them, the divergence now, the close cost,
  the pairs it could switch to) and returns `Hold`, `Close`, `Switch`, `Reduce` or
  `TopUpMargin`;
- an operator's reason turns a `Hold` into a `Close` (source "operator");
- a policy's trading decision (close, switch, reduce) waits after the position's last
  failed close (`WaitAfterFailedClose`, from the record's `close_failed_at`); an
  operator's request never waits.

`executor.ArbitrageExecutor` carries the decision out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from funding_service.opportunities import Opportunity
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import (
    Close,
    RebalanceDecision,
    WaitAfterFailedClose,
)
from strategies.implementations.funding_arbitrage.entry import legs_in_use
from strategies.implementations.funding_arbitrage.models import (
    Leg,
    LegState,
    PhaseSkipped,
    PositionMarket,
)
from strategies.implementations.funding_arbitrage.position_manager import (
    leg_states,
    position_venues,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies import RebalanceStrategy
from strategies.implementations.funding_arbitrage.snapshots import RebalanceSnapshot

OPERATOR_PRIORITY = -1  # an operator's request outranks every policy
RebalanceStep = RebalanceDecision | WaitAfterFailedClose | PhaseSkipped


class Rebalancer:
    def __init__(self, policy: RebalanceStrategy, close_retry: timedelta) -> None:
        self._policy = policy
        self._close_retry = close_retry

    def decide(
        self,
        position: PositionRecord,
        snapshot: RebalanceSnapshot,
        active: Sequence[PositionRecord],
        now: datetime,
        operator_reason: str | None = None,
    ) -> RebalanceStep:
        """What to do with `position` now; `active` are the strategy's active positions
        (their legs cannot be switched to)."""
        down = [
            s.error
            for venue, s in sorted(snapshot.venues.items())
            if s.error and venue in position_venues(position)
        ]
        if down:
            return PhaseSkipped("rebalance", f"{position.id}: {'; '.join(down)}")
        market = self.market_for(position, leg_states(position, snapshot.venues), snapshot, active)
        decision = self._policy.evaluate(position, market, now)
        if operator_reason:
            if decision.fired:
                return decision
            return Close(
                reason=f"operator: {operator_reason} (policy would hold: {decision.reason})",
                priority=OPERATOR_PRIORITY,
                source="operator",
            )
        failed_at = position.close_failed_at
        if decision.trades and failed_at is not None and now - failed_at < self._close_retry:
            return WaitAfterFailedClose(decision, failed_at, failed_at + self._close_retry)
        return decision

    @staticmethod
    def market_for(
        position: PositionRecord,
        legs: Mapping[Leg, LegState],
        snapshot: RebalanceSnapshot,
        active: Sequence[PositionRecord],
    ) -> PositionMarket:
        """What the policy sees: legs, divergence now, costs, pairs it could switch to."""
        alternatives: tuple[Opportunity, ...] = ()
        if snapshot.ranking is not None:
            # Legs held by other positions are taken; this position's own are freed by a switch.
            taken = legs_in_use([p for p in active if p.id != position.id])
            own = (position.symbol, position.long_dex, position.short_dex)
            alternatives = tuple(
                o
                for o in snapshot.ranking.opportunities
                if o.key != own
                and (o.long_venue, o.symbol) not in taken
                and (o.short_venue, o.symbol) not in taken
            )
        return PositionMarket(
            legs=legs,
            divergence_hourly=snapshot.divergence[position.id],
            close_cost_rate=snapshot.close_cost[position.id],
            horizon_hours=snapshot.horizon_hours,
            alternatives=alternatives,
        )

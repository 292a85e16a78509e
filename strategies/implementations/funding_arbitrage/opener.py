"""The open phase: ranked opportunities on pairs not in use, checked, opened hedged.

For each ranked pair (best first) whose legs are free: a pair whose open FAILED recently is
refused (`execution.failed_open_cooldown_seconds`); otherwise both venues' instruments,
books and accounts are read and `entry.plan_open` decides (risk limits); an allowed plan
creates the position (OPENING, `open.decided`) and opens it hedged. Every refusal is an
`open.refused` event with the reason; the pass stops at `risk.max_positions`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from core.enums import PositionStatus
from exchanges.base import ExchangeError
from funding_service.opportunities import Opportunity
from strategies.components.base_components import (
    ActivePositionExistsError,
    NewExposureRefusedError,
    NewPosition,
    PositionManager,
)
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.entry import LegMarket, legs_in_use, plan_open
from strategies.implementations.funding_arbitrage.market_data import MarketData
from strategies.implementations.funding_arbitrage.models import ExecutionReport, Leg, OpenRefused
from strategies.implementations.funding_arbitrage.operations.hedged_execution import (
    HedgedExecution,
)

StrategyEvent = Callable[[str, Mapping[str, Any] | None], None]
PositionEvent = Callable[[str, uuid.UUID, Mapping[str, Any]], None]


class Opener:
    def __init__(
        self,
        config: FundingArbitrageConfig,
        positions: PositionManager,
        market: MarketData,
        execution: HedgedExecution,
        strategy_event: StrategyEvent,
        position_event: PositionEvent,
    ) -> None:
        self._config = config
        self._name = config.name
        self._positions = positions
        self._market = market
        self._execution = execution
        self._strategy_event = strategy_event
        self._position_event = position_event

    def open_best(self, now: datetime) -> list[object]:
        """Open the best ranked pairs not in use, within the risk limits."""
        ranking = self._market.ranked(now)
        active = self._positions.find_active(self._name)
        results: list[object] = []
        for opportunity in ranking.opportunities:
            used = legs_in_use(active)
            if (opportunity.long_venue, opportunity.symbol) in used or (
                opportunity.short_venue,
                opportunity.symbol,
            ) in used:
                continue
            cooling = self._cooldown(opportunity, now)
            outcome = (
                [self._refuse(opportunity, cooling)]
                if cooling
                else self.open_pair(opportunity, now)
            )
            results += outcome
            if any(
                isinstance(o, OpenRefused) and o.reason.startswith("risk.max_positions")
                for o in outcome
            ):
                break
            active = self._positions.find_active(self._name)
        return results

    def open_pair(self, opportunity: Opportunity, now: datetime) -> list[object]:
        """Check one opportunity against the risk limits and open it hedged if allowed."""
        active = self._positions.find_active(self._name)
        symbol = opportunity.symbol
        try:
            legs = {
                leg: LegMarket(
                    self._market.instrument(venue, symbol),
                    self._market.book(venue, symbol),
                    self._market.account(venue),
                )
                for leg, venue in (
                    (Leg.LONG, opportunity.long_venue),
                    (Leg.SHORT, opportunity.short_venue),
                )
            }
        except (ExchangeError, LookupError) as exc:
            return [self._refuse(opportunity, f"venue data unavailable: {exc}")]
        plan = plan_open(self._config, opportunity, active, legs)
        if isinstance(plan, str):
            return [self._refuse(opportunity, plan)]
        try:
            position = self._positions.open(
                NewPosition(
                    strategy_name=self._name,
                    symbol=symbol,
                    long_dex=opportunity.long_venue,
                    short_dex=opportunity.short_venue,
                    size_usd=plan.size_usd,
                    entry_divergence=opportunity.divergence_hourly,
                )
            )
        except (ActivePositionExistsError, NewExposureRefusedError) as exc:
            return [self._refuse(opportunity, str(exc))]
        self._position_event(
            "open.decided",
            position.id,
            {
                "opportunity": list(opportunity.key),
                "apr": opportunity.apr,
                "breakeven_hours": opportunity.breakeven_hours,
                "expected_net_usd": opportunity.expected_net_usd(plan.size_usd),
                "qty": plan.qty,
                "size_usd": plan.size_usd,
                "entry_gap_bps": plan.entry_gap_bps,
            },
        )
        report: ExecutionReport = self._execution.open(
            position, self._market.leg_specs(position), plan.qty
        )
        return [report]

    def _cooldown(self, opportunity: Opportunity, now: datetime) -> str | None:
        """Why the pair must wait after a failed open, or None."""
        wait = timedelta(seconds=self._config.execution.failed_open_cooldown_seconds)
        for failed in self._positions.find(self._name, [PositionStatus.FAILED], opportunity.symbol):
            key = (failed.symbol, failed.long_dex, failed.short_dex)
            if key == opportunity.key and failed.closed_at and now - failed.closed_at < wait:
                return (
                    f"execution.failed_open_cooldown_seconds: the pair failed to open at "
                    f"{failed.closed_at.isoformat()} ({failed.close_reason})"
                )
        return None

    def _refuse(self, opportunity: Opportunity, reason: str) -> OpenRefused:
        self._strategy_event(
            "open.refused",
            {"opportunity": list(opportunity.key), "apr": opportunity.apr, "reason": reason},
        )
        return OpenRefused(
            opportunity.symbol, opportunity.long_venue, opportunity.short_venue, reason
        )

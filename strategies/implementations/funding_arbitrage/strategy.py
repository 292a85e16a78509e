"""`FundingArbitrageStrategy`: the orchestrator of delta-neutral funding arbitrage.

Long a perpetual where funding is low, short the same one where it is high, collect the
difference. Four phases, each callable alone (one beat entry each) and all four in
`run_cycle` (the in-process runner, the backtester):

1. `monitor(now)`: reconcile unfinished positions first, then one pass over the open ones:
   legs from the venues (one call per venue), hedge check, funding paid per leg, current
   divergence, unrealized PnL;
2. `rebalance(now, position_id=None, reason=None)`: the configured policy decides per
   position; close / switch / reduce / top up are carried out;
3. `open_positions(now)`: the best ranked opportunities on pairs not in use, within the
   risk limits, opened hedged;
4. `process_transfers(now)`: records which venue needs margin from which.

Every phase returns a `CycleResult` whose actions are the typed outcomes (JSON through
`to_json()`); an exception inside a phase is a failed result, never a crash of the caller.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Self

from core.enums import PositionStatus
from exchanges.base import ExchangeError
from strategies.base_strategy import CycleResult
from strategies.categories.stateful_strategy import StatefulStrategy
from strategies.components.base_components import (
    PositionNotFoundError,
    PositionRecord,
    PositionUpdate,
)
from strategies.components.kit import ComponentKit
from strategies.implementations.funding_arbitrage.components import FundingArbitrageComponents
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.market_data import MarketData
from strategies.implementations.funding_arbitrage.models import (
    Leg,
    PhaseSkipped,
    PositionMonitored,
    RebalanceAction,
    RebalanceDecision,
    RebalanceOutcome,
)
from strategies.implementations.funding_arbitrage.opener import Opener
from strategies.implementations.funding_arbitrage.operations.hedged_execution import (
    HedgedExecution,
)
from strategies.implementations.funding_arbitrage.operations.leg_orders import LegTrader
from strategies.implementations.funding_arbitrage.operations.recovery import PositionRecovery
from strategies.implementations.funding_arbitrage.position_manager import (
    ArbitragePositions,
    leg_venue,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies import (
    build_rebalance_strategy,
)
from strategies.implementations.funding_arbitrage.rebalancer import Rebalancer
from strategies.implementations.funding_arbitrage.transfers_phase import TransferRequests

logger = logging.getLogger(__name__)

UNFINISHED = (PositionStatus.OPENING, PositionStatus.CLOSING, PositionStatus.NEEDS_RECONCILE)
TRADING_ACTIONS = (RebalanceAction.CLOSE, RebalanceAction.SWITCH, RebalanceAction.REDUCE)


class FundingArbitrageStrategy(
    StatefulStrategy[FundingArbitrageConfig, FundingArbitrageComponents]
):
    """Built by the factory from a `funding_arbitrage` config; see the module docstring."""

    config_model = FundingArbitrageConfig

    @classmethod
    def create(cls, config: FundingArbitrageConfig, kit: ComponentKit) -> Self:
        return cls(config, FundingArbitrageComponents.from_kit(kit, config))

    def __init__(
        self, config: FundingArbitrageConfig, components: FundingArbitrageComponents
    ) -> None:
        super().__init__(config, components)
        self.market = MarketData(config, self.exchange, components.funding_rates)
        self.tracker = ArbitragePositions(
            self.name,
            self.position_manager,
            components.funding_payments,
            self.exchange,
            self._position_event,
        )
        self.trader = LegTrader(self.name, components.orders, self.exchange, config.execution)
        self.execution = HedgedExecution(
            self.trader,
            self.position_manager,
            lambda p: self.tracker.sync_funding(p)[0],
            self._position_event,
            config.execution,
            self.clock,
        )
        self.recovery = PositionRecovery(
            self.execution, self.trader, self.position_manager, self.clock, config.execution
        )
        self.opener = Opener(
            config,
            self.position_manager,
            self.market,
            self.execution,
            self.record_event,
            self._position_event,
        )
        self.rebalancer = Rebalancer(
            build_rebalance_strategy(config.rebalance),
            self.execution,
            self.market,
            self.opener.open_pair,
            self._position_event,
        )
        self.transfers = TransferRequests(
            config.venues,
            self.exchange,
            self.update_state,
            self.record_event,
            requester=components.transfers,
            strategy_name=self.name,
        )

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Record the start, then bring every unfinished position to a safe end."""
        super().start()
        self._reconcile_all()

    def run_cycle(self, now: datetime) -> CycleResult:
        """monitor -> rebalance -> open -> transfers; stops at the first failed phase (no new
        exposure is taken while the existing one could not be checked)."""
        done: list[object] = []
        for phase in (self.monitor, self.rebalance, self.open_positions, self.process_transfers):
            result = phase(now)
            done += result.actions
            if not result.ok:
                return CycleResult(self.name, result.at, tuple(done), error=result.error)
        return CycleResult(self.name, now, tuple(done))

    # ---------------------------------------------------------------- phases

    def reconcile(self, now: datetime) -> CycleResult:
        """Resume every OPENING / CLOSING / NEEDS_RECONCILE position (same client ids)."""
        return self.run_phase("reconcile", now, self._reconcile_all)

    def monitor(self, now: datetime) -> CycleResult:
        return self.run_phase("monitor", now, lambda: self._monitor(now))

    def rebalance(
        self, now: datetime, position_id: uuid.UUID | None = None, reason: str | None = None
    ) -> CycleResult:
        """Apply the policy to every open position, or to `position_id` only (manual); an
        operator's `reason` closes the position unless the policy decides something else."""
        return self.run_phase("rebalance", now, lambda: self._rebalance(now, position_id, reason))

    def open_positions(self, now: datetime) -> CycleResult:
        return self.run_phase("open", now, lambda: self.opener.open_best(now))

    def process_transfers(self, now: datetime) -> CycleResult:
        return self.run_phase("transfers", now, lambda: self.transfers.run(now))

    def close_position(self, position_id: uuid.UUID, reason: str, now: datetime) -> CycleResult:
        """The operator's close: finish what is unfinished, then close hedged."""
        return self.run_phase("close", now, lambda: self._close(position_id, reason))

    # ---------------------------------------------------------------- monitor

    def _reconcile_all(self) -> list[object]:
        reports: list[object] = []
        for position in self.position_manager.find(self.name, UNFINISHED):
            try:
                reports.append(self.recovery.resume(position, self.market.leg_specs(position)))
            except Exception as exc:  # one position in trouble must not block the others
                logger.exception("reconciling position %s failed", position.id)
                self._position_event("reconcile.failed", position.id, {"error": repr(exc)})
                reports.append(PhaseSkipped("reconcile", f"{position.id}: {exc!r}"))
        return reports

    def _monitor(self, now: datetime) -> list[object]:
        results = self._reconcile_all()
        positions = self.position_manager.find(self.name, [PositionStatus.OPEN])
        venues = {leg_venue(p, leg) for p in positions for leg in Leg}
        snapshots = self.tracker.venue_positions(venues)
        funding = self.tracker.venue_funding(positions)
        for position in positions:
            down = [
                f"{v}: {snapshots[v].error}"
                for v in (position.long_dex, position.short_dex)
                if v is not None and snapshots[v].error
            ]
            if down:
                results.append(PhaseSkipped("monitor", f"{position.id}: {'; '.join(down)}"))
                continue
            legs = self.tracker.leg_states(position, snapshots)
            mismatch = self.tracker.hedge_mismatch(position, legs)
            if mismatch is not None:
                self._position_event("position.unhedged", position.id, {"detail": mismatch})
                specs = self.market.leg_specs(position)
                results.append(self.recovery.resume(position, specs, mismatch))
                continue
            position, new, missing = self.tracker.sync_funding(
                position, persist=False, prefetched=funding
            )
            divergence = self.market.divergence(now, position)
            upnl = sum((leg.unrealized_pnl for leg in legs.values()), Decimal(0))
            position = self.position_manager.update(  # one write (and event) per position
                position.id,
                PositionUpdate(
                    current_divergence=divergence,
                    long_funding_usd=position.long_funding_usd,
                    short_funding_usd=position.short_funding_usd,
                    unrealized_pnl_usd=upnl,
                    last_monitored_at=now,
                ),
            )
            distances = [d for d in (leg.liquidation_distance for leg in legs.values()) if d]
            results.append(
                PositionMonitored(
                    position_id=position.id,
                    symbol=position.symbol,
                    divergence_hourly=divergence,
                    long_funding_usd=position.long_funding_usd,
                    short_funding_usd=position.short_funding_usd,
                    new_payments=len(new),
                    unrealized_pnl_usd=upnl,
                    min_liquidation_distance=min(distances) if distances else None,
                    note="; ".join(missing),
                )
            )
        return results

    # ---------------------------------------------------------------- rebalance

    def _rebalance(
        self, now: datetime, position_id: uuid.UUID | None, reason: str | None
    ) -> list[object]:
        if position_id is not None:
            position = self._own(position_id)
            if position.status in UNFINISHED:
                self.recovery.resume(position, self.market.leg_specs(position))
                position = self._own(position_id)
            if position.status is not PositionStatus.OPEN:
                raise ValueError(f"position {position_id} is {position.status}, not open")
            targets = [position]
        else:
            targets = self.position_manager.find(self.name, [PositionStatus.OPEN])
        if not targets:
            return []
        active = self.position_manager.find_active(self.name)
        try:
            ranking = self.market.ranked(now)
        except ExchangeError as exc:  # policies that need no alternatives still run
            logger.warning("%s: ranking unavailable for rebalance: %s", self.name, exc)
            ranking = None
        snapshots = self.tracker.venue_positions(
            {leg_venue(p, leg) for p in targets for leg in Leg}
        )
        outcomes: list[object] = []
        for position in targets:
            down = [s.error for v, s in snapshots.items() if s.error and v in _venues(position)]
            if down:
                outcomes.append(PhaseSkipped("rebalance", f"{position.id}: {'; '.join(down)}"))
                continue
            legs = self.tracker.leg_states(position, snapshots)
            market = self.rebalancer.market_for(position, legs, ranking, active, now)
            decision = self.rebalancer.decide(position, market, now, reason)
            waiting = None if reason else self._close_retry_wait(position, decision, now)
            if waiting is not None:
                outcomes.append(RebalanceOutcome(position.id, decision, waiting))
                continue
            specs = self.market.leg_specs(position)
            outcomes.append(self.rebalancer.carry_out(position, specs, decision, now))
            active = self.position_manager.find_active(self.name)
        return outcomes

    def _close_retry_wait(
        self, position: PositionRecord, decision: RebalanceDecision, now: datetime
    ) -> str | None:
        """Why a trading decision waits after this position's last failed close, or None."""
        failed_at = position.close_failed_at
        if decision.action not in TRADING_ACTIONS or failed_at is None:
            return None
        wait = timedelta(seconds=self.config.execution.close_retry_seconds)
        if now - failed_at < wait:
            return (
                f"waiting: the close failed at {failed_at.isoformat()}; "
                f"execution.close_retry_seconds is {wait.total_seconds():.0f}"
            )
        return None

    def _close(self, position_id: uuid.UUID, reason: str) -> list[object]:
        position = self._own(position_id)
        specs = self.market.leg_specs(position)
        reports: list[object] = []
        if position.status in UNFINISHED:
            reports.append(self.recovery.resume(position, specs))
            position = self._own(position_id)
        if position.status is PositionStatus.OPEN:
            self._position_event("position.close_requested", position.id, {"reason": reason})
            reports.append(self.execution.close(position, specs, f"operator: {reason}"))
        elif not reports:
            reports.append(PhaseSkipped("close", f"position {position_id} is {position.status}"))
        return reports

    # ---------------------------------------------------------------- helpers

    def _own(self, position_id: uuid.UUID) -> PositionRecord:
        position = self.position_manager.get(position_id)
        if position is None or position.strategy_name != self.name:
            raise PositionNotFoundError(f"strategy {self.name} has no position {position_id}")
        return position

    def _position_event(
        self, kind: str, position_id: uuid.UUID, payload: Mapping[str, Any]
    ) -> None:
        self.audit.position(kind, position_id, payload)


def _venues(position: PositionRecord) -> set[str]:
    return {v for v in (position.long_dex, position.short_dex) if v is not None}

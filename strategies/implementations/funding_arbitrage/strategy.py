"""`FundingArbitrageStrategy`: the orchestrator of delta-neutral funding arbitrage.

Long a perpetual where funding is low, short the same one where it is high, collect the
difference. Four phases, each callable alone (one beat entry each) and all four in
`run_cycle` (the in-process runner, the backtester):

Repair comes first, in every phase that trades (monitor, rebalance, open, close): unfinished
positions are resumed and the open ones reconciled against the venues in both directions
(`_repair_first`); `open` takes no new exposure while anything is still unsafe, and a venue
position the strategy never opened asks for a halt (`HaltRequested`).

1. `monitor(now)`: repair first, then one pass over the open ones:
   legs from the venues (one call per venue), hedge check, funding paid per leg, current
   divergence, unrealized PnL;
2. `rebalance(now, position_id=None, reason=None)`: the configured policy decides per
   position; close / switch / reduce / top up are carried out;
3. `open_positions(now)`: the best ranked opportunities on pairs not in use, within the
   risk limits, opened hedged;
4. `process_transfers(now)`: which venue needs margin from which; the needs are handed to
   the fund-transfer manager.

Every phase has the same shape: read a snapshot (`snapshots.SnapshotReader`), decide with
pure code (`monitoring`, `rebalancer`, `opener`, `margin`), let the one executor
(`executor.ArbitrageExecutor`) carry the typed decisions out. The open and rebalance phases
go pair by pair (position by position), each decision taken on what the previous one left:
an open uses margin and legs the next one must see. Every phase returns a `CycleResult`
whose actions are its typed outcomes (JSON through `to_json()`); an exception inside a
phase is a failed result, never a crash of the caller.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Self

from core.enums import PositionStatus
from strategies.base_strategy import CycleResult
from strategies.categories.stateful_strategy import StatefulStrategy
from strategies.components.base_components import PositionNotFoundError, PositionRecord
from strategies.components.kit import ComponentKit
from strategies.implementations.funding_arbitrage import monitoring
from strategies.implementations.funding_arbitrage.components import FundingArbitrageComponents
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.decisions import (
    ForeignPosition,
    OpenRefused,
    OperatorClose,
    RefusalRule,
    Resume,
)
from strategies.implementations.funding_arbitrage.executor import ArbitrageExecutor
from strategies.implementations.funding_arbitrage.margin import transfer_needs
from strategies.implementations.funding_arbitrage.market_data import MarketData
from strategies.implementations.funding_arbitrage.models import PhaseSkipped
from strategies.implementations.funding_arbitrage.opener import cooldown, decide_open, is_free
from strategies.implementations.funding_arbitrage.operations.hedged_execution import (
    HedgedPositions,
)
from strategies.implementations.funding_arbitrage.operations.leg_orders import LegOrders
from strategies.implementations.funding_arbitrage.operations.recovery import PositionRecovery
from strategies.implementations.funding_arbitrage.outcomes import (
    CloseOutcome,
    MonitorOutcome,
    OpenOutcome,
    ProtectOutcome,
    RebalancePhaseOutcome,
    ReconcileOutcome,
    TransferOutcome,
)
from strategies.implementations.funding_arbitrage.position_manager import (
    FundingLedger,
    VenuePositions,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies import (
    build_rebalance_strategy,
)
from strategies.implementations.funding_arbitrage.rebalancer import Rebalancer
from strategies.implementations.funding_arbitrage.snapshots import (
    UNFINISHED,
    SnapshotReader,
    VenueCheck,
)

logger = logging.getLogger(__name__)


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
        c = components
        market = MarketData(config, c.exchanges, c.funding_rates)
        funding = FundingLedger(c.positions, c.funding_payments, c.exchanges, c.audit)
        legs = LegOrders(self.name, c.orders, c.exchanges, config.execution, c.clock)
        hedged = HedgedPositions(
            legs, c.leg_runner, c.positions, funding, c.audit, config.execution, c.clock
        )
        recovery = PositionRecovery(hedged, legs, c.positions, c.clock, config.execution)
        self.reader = SnapshotReader(
            self.name, c.positions, market, VenuePositions(c.exchanges), funding
        )
        self.rebalancer = Rebalancer(
            build_rebalance_strategy(config.rebalance),
            timedelta(seconds=config.execution.close_retry_seconds),
        )
        self.executor = ArbitrageExecutor(
            config,
            c.positions,
            c.state,
            c.audit,
            market,
            self.reader,
            hedged,
            recovery,
            funding,
            c.transfers,
        )

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Record the start, then repair first: every unfinished position to a safe end, the
        venue accounts reconciled with the positions (a halt asked for here is asked again,
        and tripped, by the first phase: `open` refuses new exposure meanwhile)."""
        super().start()
        self._repair_first()

    def run_cycle(self, now: datetime) -> CycleResult:
        """monitor -> rebalance -> open -> transfers; stops at the first failed phase (no new
        exposure is taken while the existing one could not be checked)."""
        done: tuple[object, ...] = ()  # the phases' typed outcomes, as `CycleResult` holds them
        for phase in (self.monitor, self.rebalance, self.open_positions, self.process_transfers):
            result = phase(now)
            done += result.actions
            if not result.ok:
                return CycleResult(self.name, result.at, done, error=result.error)
        return CycleResult(self.name, now, done)

    # ---------------------------------------------------------------- phases

    def reconcile(self, now: datetime) -> CycleResult:
        """Repair first, alone: resume every OPENING / CLOSING / NEEDS_RECONCILE position
        (same client ids) and reconcile the venue accounts (the unhedged watchdog's phase)."""
        return self.run_phase("reconcile", now, lambda: self._repair_first()[0])

    def monitor(self, now: datetime) -> CycleResult:
        return self.run_phase("monitor", now, lambda: self._monitor(now))

    def rebalance(
        self, now: datetime, position_id: uuid.UUID | None = None, reason: str | None = None
    ) -> CycleResult:
        """Apply the policy to every open position, or to `position_id` only (manual); an
        operator's `reason` closes the position unless the policy decides something else."""
        return self.run_phase("rebalance", now, lambda: self._rebalance(now, position_id, reason))

    def open_positions(self, now: datetime) -> CycleResult:
        return self.run_phase("open", now, lambda: self._open(now))

    def process_transfers(self, now: datetime) -> CycleResult:
        return self.run_phase("transfers", now, lambda: self._transfers(now))

    def close_position(self, position_id: uuid.UUID, reason: str, now: datetime) -> CycleResult:
        """The operator's close: finish what is unfinished, then close hedged."""
        return self.run_phase("close", now, lambda: self._close(position_id, reason))

    # ---------------------------------------------------------------- phase bodies

    def _reconcile_all(self) -> list[ReconcileOutcome]:
        outcomes: list[ReconcileOutcome] = []
        for decision in monitoring.resumes(self.reader.unfinished()):
            try:
                outcomes.append(self.executor.resume(decision))
            except Exception as exc:  # one position in trouble must not block the others
                position = decision.position
                logger.exception("reconciling position %s failed", position.id)
                self.audit.position("reconcile.failed", position.id, {"error": repr(exc)})
                outcomes.append(PhaseSkipped("reconcile", f"{position.id}: {exc!r}"))
        return outcomes

    def _repair_first(self) -> tuple[list[ProtectOutcome], list[str], VenueCheck, bool]:
        """Bring every position to a safe state before a phase trades: resume the unfinished
        ones, then reconcile the strategy's venue accounts with its positions both ways.

        Returns what was done, what still stands in the way of new exposure (a position
        not yet safe, a venue that cannot be read, a position nobody opened), the venue
        check it acted on, and whether anything was traded (the check is then stale)."""
        outcomes: list[ProtectOutcome] = [*self._reconcile_all()]
        traded = bool(outcomes)
        check = self.reader.venue_check(self.config.venue_names)
        blockers: list[str] = []
        for decision in monitoring.reconcile(check):
            if isinstance(decision, PhaseSkipped):
                outcomes.append(decision)
                blockers.append(decision.reason)
            elif isinstance(decision, ForeignPosition):
                outcomes.append(self.executor.foreign(decision))
                blockers.append(decision.detail)
            else:
                traded = True
                try:
                    outcomes.append(self.executor.repair(decision))
                except Exception as exc:  # one position in trouble must not block the others
                    logger.exception("repairing position %s failed", decision.position.id)
                    outcomes.append(PhaseSkipped("reconcile", f"{decision.position.id}: {exc!r}"))
        blockers += [f"position {p.id} is {p.status}" for p in self.reader.unfinished()]
        return outcomes, blockers, check, traded

    def _monitor(self, now: datetime) -> list[MonitorOutcome]:
        outcomes: list[MonitorOutcome] = []
        repaired, _blockers, check, traded = self._repair_first()
        outcomes += repaired
        snapshot = self.reader.monitor(now, None if traded else check.venues)
        outcomes += [self.executor.monitor(d, now) for d in monitoring.decide(snapshot)]
        return outcomes

    def _rebalance(
        self, now: datetime, position_id: uuid.UUID | None, reason: str | None
    ) -> list[RebalancePhaseOutcome]:
        outcomes: list[RebalancePhaseOutcome] = []
        repaired, _blockers, _check, _traded = self._repair_first()
        outcomes += repaired
        if position_id is not None:
            position = self._own(position_id)
            if position.status in UNFINISHED:
                self.executor.resume(Resume(position))
                position = self._own(position_id)
            if position.status is not PositionStatus.OPEN:
                raise ValueError(f"position {position_id} is {position.status}, not open")
            targets = [position]
        else:
            targets = self.reader.open_positions()
        if not targets:
            return outcomes
        snapshot = self.reader.rebalance(now, targets)
        for position in targets:  # each decided on what the previous ones left
            step = self.rebalancer.decide(position, snapshot, self.reader.active(), now, reason)
            outcomes.append(self.executor.rebalance(position, step))
        return outcomes

    def _open(self, now: datetime) -> list[OpenOutcome]:
        outcomes: list[OpenOutcome] = []
        repaired, blockers, _check, _traded = self._repair_first()
        outcomes += repaired
        if blockers:
            why = "no new exposure while positions are not safe: " + "; ".join(blockers)
            outcomes.append(PhaseSkipped("open", why))
            return outcomes
        ranking = self.reader.ranking(now)
        for opportunity in ranking.opportunities:  # each decided on what the previous left
            if not is_free(opportunity, self.reader.active()):
                continue
            refusal = cooldown(
                self.config, opportunity, self.reader.failed(opportunity.symbol), now
            )
            decision = refusal or decide_open(self.config, self.reader.open_candidate(opportunity))
            outcome = self.executor.open(decision)
            outcomes.append(outcome)
            if isinstance(outcome, OpenRefused) and outcome.rule is RefusalRule.MAX_POSITIONS:
                break
        return outcomes

    def _transfers(self, now: datetime) -> list[TransferOutcome]:
        balances, skipped = self.reader.balances(self.config.venue_names)
        needs = transfer_needs(balances, self.config.venues)
        return [*skipped, *self.executor.transfers(needs, now)]

    def _close(self, position_id: uuid.UUID, reason: str) -> list[CloseOutcome]:
        position = self._own(position_id)
        outcomes: list[CloseOutcome] = []
        if position.status in UNFINISHED:
            outcomes.append(self.executor.resume(Resume(position)))
            position = self._own(position_id)
        if position.status is PositionStatus.OPEN:
            outcomes.append(self.executor.operator_close(OperatorClose(position, reason)))
        elif not outcomes:
            outcomes.append(PhaseSkipped("close", f"position {position_id} is {position.status}"))
        return outcomes

    # ---------------------------------------------------------------- helpers

    def _own(self, position_id: uuid.UUID) -> PositionRecord:
        position = self.position_manager.get(position_id)
        if position is None or position.strategy_name != self.name:
            raise PositionNotFoundError(f"strategy {self.name} has no position {position_id}")
        return position

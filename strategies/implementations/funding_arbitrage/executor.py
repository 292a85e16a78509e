"""`ArbitrageExecutor`: the one place funding arbitrage's decisions are carried out.

Every phase reads a snapshot, decides with pure code (`monitoring`, `rebalancer`, `opener`,
`entry`, `margin`, `transfers_phase`) and hands the typed decisions here; what comes back
are typed outcomes (`ExecutionReport`, `PositionMonitored`, `RebalanceOutcome`,
`OpenRefused`, `TransferNeed`, ...). Trading goes down one level to
`operations/hedged_execution.py` (whole positions) and `operations/recovery.py`
(unfinished ones); nothing calls back up.

A `Switch` is carried out here as close-then-open: the close first, and only once the
position is CLOSED the target is read afresh (books, accounts: margin the close freed) and
decided through the same opening rules as the open phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.enums import PositionStatus
from core.errors import PerpbotError
from funding_service.opportunities import Opportunity
from strategies.base_strategy import HaltRequested
from strategies.components.base_components import (
    ActivePositionExistsError,
    NewExposureRefusedError,
    NewPosition,
    PositionManager,
    PositionRecord,
    PositionUpdate,
    StateManager,
    StrategyAudit,
)
from strategies.components.transfer_types import (
    TransferManager,
    TransferRequestResult,
    TransfersUnavailableError,
)
from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.decisions import (
    Close,
    ForeignPosition,
    Hold,
    Open,
    OpenRefused,
    OperatorClose,
    RebalanceDecision,
    Reduce,
    Refresh,
    RefusalRule,
    Repair,
    Resume,
    Switch,
    TopUpMargin,
    WaitAfterFailedClose,
)
from strategies.implementations.funding_arbitrage.market_data import MarketData
from strategies.implementations.funding_arbitrage.models import (
    ExecutionReport,
    PhaseSkipped,
    PositionMonitored,
    TransferNeed,
    TransferNotStarted,
)
from strategies.implementations.funding_arbitrage.opener import decide_open
from strategies.implementations.funding_arbitrage.operations.hedged_execution import (
    HedgedPositions,
)
from strategies.implementations.funding_arbitrage.operations.recovery import PositionRecovery
from strategies.implementations.funding_arbitrage.outcomes import RebalanceOutcome, TransferOutcome
from strategies.implementations.funding_arbitrage.position_manager import FundingLedger
from strategies.implementations.funding_arbitrage.rebalancer import RebalanceStep
from strategies.implementations.funding_arbitrage.snapshots import SnapshotReader
from strategies.implementations.funding_arbitrage.transfers_phase import (
    STATE_KEY,
    NeedChanges,
    need_key,
    track_needs,
    transfer_amount,
)


class ArbitrageExecutor:
    """Carries out the decisions of one funding-arbitrage strategy."""

    def __init__(
        self,
        config: FundingArbitrageConfig,
        positions: PositionManager,
        state: StateManager,
        audit: StrategyAudit,
        market: MarketData,
        reader: SnapshotReader,
        hedged: HedgedPositions,
        recovery: PositionRecovery,
        funding: FundingLedger,
        transfers: TransferManager,
    ) -> None:
        self._config = config
        self._positions = positions
        self._state = state
        self._audit = audit
        self._market = market
        self._reader = reader
        self._hedged = hedged
        self._recovery = recovery
        self._funding = funding
        self._transfers = transfers

    # ---------------------------------------------------------------- monitor and recovery

    def resume(self, decision: Resume) -> ExecutionReport:
        position = decision.position
        return self._recovery.resume(position, self._market.leg_specs(position))

    def monitor(
        self, decision: Refresh | Repair | PhaseSkipped, now: datetime
    ) -> ExecutionReport | PositionMonitored | PhaseSkipped:
        if isinstance(decision, PhaseSkipped):
            return decision
        if isinstance(decision, Repair):
            return self.repair(decision)
        return self._refresh(decision, now)

    def repair(self, decision: Repair) -> ExecutionReport:
        """An open position the venues disagree with: traded back to what both legs hold."""
        position = decision.position
        self._audit.position("position.unhedged", position.id, {"detail": decision.mismatch})
        return self._recovery.resume(position, self._market.leg_specs(position), decision.mismatch)

    def foreign(self, decision: ForeignPosition) -> HaltRequested:
        """A venue position that is none of ours: recorded, and the strategy asks for a halt
        (it is never traded over, nor closed on a guess)."""
        self._audit.strategy(
            "reconcile.foreign_position",
            {"venue": decision.venue, "symbol": decision.symbol, "qty": decision.qty},
        )
        return HaltRequested(self._config.name, "reconcile.foreign_position", decision.detail)

    def _refresh(self, decision: Refresh, now: datetime) -> PositionMonitored:
        totalled, new = self._funding.record(decision.position, decision.payments, decision.stored)
        position = self._positions.update(  # one write (and event) per position
            totalled.id,
            PositionUpdate(
                current_divergence=decision.divergence_hourly,
                long_funding_usd=totalled.long_funding_usd,
                short_funding_usd=totalled.short_funding_usd,
                unrealized_pnl_usd=decision.unrealized_pnl_usd,
                last_monitored_at=now,
            ),
        )
        return PositionMonitored(
            position_id=position.id,
            symbol=position.symbol,
            divergence_hourly=decision.divergence_hourly,
            long_funding_usd=position.long_funding_usd,
            short_funding_usd=position.short_funding_usd,
            new_payments=len(new),
            unrealized_pnl_usd=decision.unrealized_pnl_usd,
            min_liquidation_distance=decision.min_liquidation_distance,
            note="; ".join(decision.missing_funding),
        )

    # ---------------------------------------------------------------- rebalance

    def rebalance(
        self, position: PositionRecord, step: RebalanceStep
    ) -> RebalanceOutcome | PhaseSkipped:
        if isinstance(step, PhaseSkipped):
            return step
        if isinstance(step, WaitAfterFailedClose):
            return RebalanceOutcome(position.id, step.decision, step.detail)
        if step.fired:
            self._audit.position("rebalance.decision", position.id, _decision_payload(step))
        reason = f"{step.source}: {step.reason}"
        specs = self._market.leg_specs(position)
        if isinstance(step, Hold):
            return RebalanceOutcome(position.id, step, "held")
        if isinstance(step, Close):
            report = self._hedged.close(position, specs, reason)
            return RebalanceOutcome(position.id, step, report.summary, (report,))
        if isinstance(step, Reduce):
            report = self._hedged.reduce(position, specs, step.fraction, reason)
            return RebalanceOutcome(position.id, step, report.summary, (report,))
        if isinstance(step, Switch):
            return self._switch(position, step, reason)
        self._audit.position(
            "margin.top_up_requested",
            position.id,
            {
                "leg": step.leg,
                "venue": specs[step.leg].venue,
                "amount_usd": step.amount_usd,
                "reason": step.reason,
            },
        )
        return RebalanceOutcome(
            position.id, step, "top-up requested (recorded; no margin moved automatically)"
        )

    def _switch(self, position: PositionRecord, decision: Switch, reason: str) -> RebalanceOutcome:
        closed = self._hedged.close(position, self._market.leg_specs(position), reason)
        if closed.status is not PositionStatus.CLOSED:
            return RebalanceOutcome(
                position.id, decision, f"switch stopped: {closed.summary}", (closed,)
            )
        opened = self.open(decide_open(self._config, self._reader.open_candidate(decision.target)))
        if isinstance(opened, OpenRefused):
            return RebalanceOutcome(
                position.id, decision, "closed; new pair refused (see events)", (closed,)
            )
        return RebalanceOutcome(
            position.id, decision, f"closed; {opened.summary}", (closed, opened)
        )

    def operator_close(self, decision: OperatorClose) -> ExecutionReport:
        position = decision.position
        self._audit.position("position.close_requested", position.id, {"reason": decision.reason})
        specs = self._market.leg_specs(position)
        return self._hedged.close(position, specs, f"operator: {decision.reason}")

    # ---------------------------------------------------------------- open

    def open(self, decision: Open | OpenRefused) -> ExecutionReport | OpenRefused:
        """Create the position (OPENING) and open it hedged, or record the refusal."""
        if isinstance(decision, OpenRefused):
            return self.refuse(decision)
        plan = decision.plan
        opportunity = plan.opportunity
        try:
            position = self._positions.open(
                NewPosition(
                    strategy_name=self._config.name,
                    symbol=opportunity.symbol,
                    long_dex=opportunity.long_venue,
                    short_dex=opportunity.short_venue,
                    size_usd=plan.size_usd,
                    entry_divergence=opportunity.divergence_hourly,
                )
            )
        except ActivePositionExistsError as exc:
            return self.refuse(OpenRefused.of(opportunity, RefusalRule.POSITION_EXISTS, str(exc)))
        except NewExposureRefusedError as exc:  # paused (or halted): nothing opens
            return self.refuse(OpenRefused.of(opportunity, RefusalRule.NO_NEW_EXPOSURE, str(exc)))
        self._audit.position(
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
        return self._hedged.open(position, self._market.leg_specs(position), plan.qty)

    def refuse(self, refused: OpenRefused) -> OpenRefused:
        self._audit.strategy(
            "open.refused",
            {
                "opportunity": [refused.symbol, refused.long_venue, refused.short_venue],
                "apr": refused.apr,
                "rule": refused.rule,
                "reason": refused.detail,
            },
        )
        return refused

    # ---------------------------------------------------------------- transfers

    def transfers(self, needs: list[TransferNeed], now: datetime) -> list[TransferOutcome]:
        """Announce new needs and resolved ones (once each), then hand every current need
        to the transfer manager."""
        tracked: list[NeedChanges] = []

        def mutate(state: dict[str, Any]) -> Mapping[str, Any]:
            tracked[:] = [track_needs(state.get(STATE_KEY) or {}, needs, now)]
            return {**state, STATE_KEY: dict(tracked[0].waiting)}

        self._state.update(self._config.name, mutate)
        changes = tracked[0]
        for key, need in changes.announced.items():
            self._audit.strategy(
                "transfer.requested",
                {
                    "from_venue": need.from_venue,
                    "to_venue": need.to_venue,
                    "amount_usd": need.amount_usd,
                    "reason": need.reason,
                    "key": key,
                },
            )
        for key in changes.resolved:
            self._audit.strategy("transfer.need_resolved", {"key": key})
        requested: list[TransferOutcome] = [self._request(need) for need in needs]
        return [*requested, *needs]

    def _request(
        self, need: TransferNeed
    ) -> TransferRequestResult | TransferNotStarted | PhaseSkipped:
        accounts = {v.name: v.account for v in self._config.venues}
        amount = transfer_amount(need)
        try:
            result = self._transfers.request_transfer(
                need.from_venue,
                need.to_venue,
                amount,
                from_account=accounts[need.from_venue],
                to_account=accounts[need.to_venue],
                reason=need.reason,
                strategy_name=self._config.name,
            )
        except TransfersUnavailableError as exc:  # no transfers here: the need stays recorded
            return TransferNotStarted(need_key(need), str(exc))
        except PerpbotError as exc:  # refused (too small, not allowlisted...): nothing stored
            self._audit.strategy("transfer.refused", {"key": need_key(need), "error": str(exc)})
            return PhaseSkipped("transfers", f"{need_key(need)}: {exc}")
        if result.created:
            self._audit.strategy(
                "transfer.started",
                {"key": need_key(need), "amount_usd": amount, "transfer_id": str(result.record.id)},
            )
        return result


def _decision_payload(decision: RebalanceDecision) -> dict[str, Any]:
    target: Opportunity | None = decision.target if isinstance(decision, Switch) else None
    return {
        "action": decision.action,
        "reason": decision.reason,
        "source": decision.source,
        "priority": decision.priority,
        "target": None if target is None else list(target.key),
        "fraction": decision.fraction if isinstance(decision, Reduce) else None,
        "amount_usd": decision.amount_usd if isinstance(decision, TopUpMargin) else None,
    }

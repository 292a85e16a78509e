"""The rebalancer: asks the configured policy about each open position and carries out what
it decides.

Deciding is pure (`RebalanceStrategy.evaluate` over a `PositionMarket` built here from the
venues and the funding service); acting goes through `HedgedExecution`:

- CLOSE: a hedged close;
- SWITCH: a hedged close, then the target pair is opened through the normal opening path
  (risk limits included) — if the close does not finish, nothing is opened;
- REDUCE: both legs reduced by the fraction;
- TOP_UP_MARGIN: the venue port has no way to move margin into one position, so the need is
  recorded as a `margin.top_up_requested` event for the operator or the transfers phase.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from core.enums import PositionStatus
from funding_service.opportunities import Opportunity, Ranking
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.entry import legs_in_use
from strategies.implementations.funding_arbitrage.market_data import MarketData
from strategies.implementations.funding_arbitrage.models import (
    ExecutionReport,
    Leg,
    LegState,
    PositionMarket,
    RebalanceAction,
    RebalanceDecision,
    RebalanceOutcome,
)
from strategies.implementations.funding_arbitrage.operations.hedged_execution import (
    HedgedExecution,
)
from strategies.implementations.funding_arbitrage.operations.leg_orders import LegSpec
from strategies.implementations.funding_arbitrage.rebalance_strategies import RebalanceStrategy

OPERATOR_PRIORITY = -1  # an operator's request outranks every policy
OpenCall = Callable[[Opportunity, datetime], Sequence[object]]
EventRecorder = Callable[[str, uuid.UUID, Mapping[str, object]], None]


class Rebalancer:
    def __init__(
        self,
        policy: RebalanceStrategy,
        execution: HedgedExecution,
        market: MarketData,
        open_pair: OpenCall,
        record_event: EventRecorder,
    ) -> None:
        self._policy = policy
        self._execution = execution
        self._market = market
        self._open_pair = open_pair
        self._event = record_event

    def market_for(
        self,
        position: PositionRecord,
        legs: Mapping[Leg, LegState],
        ranking: Ranking | None,
        active: Sequence[PositionRecord],
        now: datetime,
    ) -> PositionMarket:
        """What the policy sees: legs, divergence now, costs, pairs it could switch to."""
        alternatives: tuple[Opportunity, ...] = ()
        if ranking is not None:
            # Legs held by other positions are taken; this position's own are freed by a switch.
            taken = legs_in_use([p for p in active if p.id != position.id])
            own = (position.symbol, position.long_dex, position.short_dex)
            alternatives = tuple(
                o
                for o in ranking.opportunities
                if o.key != own
                and (o.long_venue, o.symbol) not in taken
                and (o.short_venue, o.symbol) not in taken
            )
        return PositionMarket(
            legs=legs,
            divergence_hourly=self._market.divergence(now, position),
            close_cost_rate=self._market.close_cost_rate(position),
            horizon_hours=self._market.opportunity_filter().horizon_hours,
            alternatives=alternatives,
        )

    def decide(
        self,
        position: PositionRecord,
        market: PositionMarket,
        now: datetime,
        operator_reason: str | None = None,
    ) -> RebalanceDecision:
        """The policy's decision; an operator's reason turns a HOLD into a CLOSE."""
        decision = self._policy.evaluate(position, market, now)
        if operator_reason and not decision.fired:
            decision = RebalanceDecision(
                RebalanceAction.CLOSE,
                f"operator: {operator_reason} (policy would hold: {decision.reason})",
                OPERATOR_PRIORITY,
                "operator",
            )
        return decision

    def carry_out(
        self,
        position: PositionRecord,
        legs: Mapping[Leg, LegSpec],
        decision: RebalanceDecision,
        now: datetime,
    ) -> RebalanceOutcome:
        if decision.fired:
            self._event(
                "rebalance.decision",
                position.id,
                {
                    "action": decision.action,
                    "reason": decision.reason,
                    "source": decision.source,
                    "priority": decision.priority,
                    "target": None if decision.target is None else list(decision.target.key),
                    "fraction": decision.fraction,
                    "amount_usd": decision.amount_usd,
                },
            )
        reason = f"{decision.source}: {decision.reason}"
        action = decision.action
        if action is RebalanceAction.HOLD:
            return RebalanceOutcome(position.id, decision, "held")
        if action is RebalanceAction.CLOSE:
            report = self._execution.close(position, legs, reason)
            return RebalanceOutcome(position.id, decision, _done(report), (report,))
        if action is RebalanceAction.REDUCE:
            assert decision.fraction is not None
            report = self._execution.reduce(position, legs, decision.fraction, reason)
            return RebalanceOutcome(position.id, decision, _done(report), (report,))
        if action is RebalanceAction.SWITCH:
            return self._switch(position, legs, decision, reason, now)
        self._event(
            "margin.top_up_requested",
            position.id,
            {
                "leg": decision.leg,
                "venue": legs[decision.leg].venue if decision.leg else None,
                "amount_usd": decision.amount_usd,
                "reason": decision.reason,
            },
        )
        return RebalanceOutcome(
            position.id, decision, "top-up requested (recorded; no margin moved automatically)"
        )

    def _switch(
        self,
        position: PositionRecord,
        legs: Mapping[Leg, LegSpec],
        decision: RebalanceDecision,
        reason: str,
        now: datetime,
    ) -> RebalanceOutcome:
        assert decision.target is not None
        closed = self._execution.close(position, legs, reason)
        if closed.status is not PositionStatus.CLOSED:
            return RebalanceOutcome(
                position.id, decision, f"switch stopped: {_done(closed)}", (closed,)
            )
        opened = tuple(self._open_pair(decision.target, now))
        reports = (closed, *(r for r in opened if isinstance(r, ExecutionReport)))
        summary = "; ".join(_done(r) for r in reports[1:]) or "new pair refused (see events)"
        return RebalanceOutcome(position.id, decision, f"closed; {summary}", reports)


def _done(report: ExecutionReport) -> str:
    return f"{report.operation} -> {report.status}: {report.detail}"

"""The interface of a rebalance policy: a pure `evaluate(position, market, now)`.

A policy reads a position (as stored), what its market looks like now (`PositionMarket`) and
the time, and returns one of the per-action decisions (`Hold`, `Close`, `Switch`, `Reduce`,
`TopUpMargin`), each carrying its reason, the policy's priority and its type. It never calls
a venue or the database, so every policy is tested on hand-made inputs and reused as is by a
backtester.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from funding_service.opportunities import Opportunity
from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import (
    Close,
    Hold,
    RebalanceDecision,
    Reduce,
    Switch,
    TopUpMargin,
)
from strategies.implementations.funding_arbitrage.models import Leg, PositionMarket


class RebalanceStrategy(ABC):
    """Subclass, set `policy_type` (the config's `type`) and implement `evaluate`."""

    policy_type: ClassVar[str]

    def __init__(self, priority: int) -> None:
        self.priority = priority

    @abstractmethod
    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        """The decision for `position` at `now`; `Hold` (with its reason) when nothing fires."""

    def hold(self, reason: str) -> Hold:
        return Hold(reason=reason, priority=self.priority, source=self.policy_type)

    def close(self, reason: str) -> Close:
        return Close(reason=reason, priority=self.priority, source=self.policy_type)

    def switch(self, target: Opportunity, reason: str) -> Switch:
        return Switch(reason=reason, priority=self.priority, source=self.policy_type, target=target)

    def reduce(self, fraction: Decimal, reason: str) -> Reduce:
        return Reduce(
            reason=reason, priority=self.priority, source=self.policy_type, fraction=fraction
        )

    def top_up(self, leg: Leg, amount_usd: Decimal, reason: str) -> TopUpMargin:
        return TopUpMargin(
            reason=reason,
            priority=self.priority,
            source=self.policy_type,
            leg=leg,
            amount_usd=amount_usd,
        )


def pct(value: Decimal) -> str:
    """A fraction as a percentage with two decimals, for reasons people read."""
    return f"{value * 100:.2f}%"

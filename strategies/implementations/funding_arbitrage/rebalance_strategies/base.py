"""The interface of a rebalance policy: a pure `evaluate(position, market, now)`.

A policy reads a position (as stored), what its market looks like now (`PositionMarket`) and
the time, and returns a `RebalanceDecision`. It never calls a venue or the database, so
every policy is tested on hand-made inputs and reused as is by a backtester.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.models import (
    PositionMarket,
    RebalanceAction,
    RebalanceDecision,
)


class RebalanceStrategy(ABC):
    """Subclass, set `policy_type` (the config's `type`) and implement `evaluate`."""

    policy_type: ClassVar[str]

    def __init__(self, priority: int) -> None:
        self.priority = priority

    @abstractmethod
    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        """The decision for `position` at `now`; HOLD (with its reason) when nothing fires."""

    def hold(self, reason: str) -> RebalanceDecision:
        return RebalanceDecision(RebalanceAction.HOLD, reason, self.priority, self.policy_type)

    def decide(self, action: RebalanceAction, reason: str, **details: Any) -> RebalanceDecision:
        return RebalanceDecision(action, reason, self.priority, self.policy_type, **details)


def pct(value: Decimal) -> str:
    """A fraction as a percentage with two decimals, for reasons people read."""
    return f"{value * 100:.2f}%"

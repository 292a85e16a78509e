"""`combined`: several policies as one, with explicit rules for who wins.

Every child is evaluated on the same inputs. Among those that fired (not HOLD):
- `priority`: the lowest priority number wins;
- `any`: the most decisive action wins (CLOSE > SWITCH > REDUCE > TOP_UP_MARGIN), then the
  lowest priority number;
- `all`: nothing happens unless every child fired; then as in `priority`, with every
  child's reason joined.
Ties (same action rank and priority) go to the child listed first in the config, so the
outcome never depends on anything but the config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import (
    ACTION_SEVERITY,
    RebalanceDecision,
)
from strategies.implementations.funding_arbitrage.models import PositionMarket
from strategies.implementations.funding_arbitrage.rebalance_strategies.base import (
    RebalanceStrategy,
)

MODES = ("priority", "any", "all")


class Combined(RebalanceStrategy):
    policy_type = "combined"

    def __init__(self, children: Sequence[RebalanceStrategy], mode: str, priority: int) -> None:
        super().__init__(priority)
        if not children:
            raise ValueError("combined: needs at least one policy")
        if mode not in MODES:
            raise ValueError(f"combined: mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.children = tuple(children)
        self.mode = mode

    def evaluate(
        self, position: PositionRecord, market: PositionMarket, now: datetime
    ) -> RebalanceDecision:
        decisions = [child.evaluate(position, market, now) for child in self.children]
        fired = [(index, d) for index, d in enumerate(decisions) if d.fired]
        if not fired:
            return self.hold("; ".join(f"{d.source}: {d.reason}" for d in decisions))
        if self.mode == "all" and len(fired) < len(decisions):
            waiting = [d.source for d in decisions if not d.fired]
            return self.hold(f"all must fire; not yet: {', '.join(waiting)}")
        if self.mode == "any":
            _, winner = min(
                fired, key=lambda item: (ACTION_SEVERITY[item[1].action], item[1].priority, item[0])
            )
        else:
            _, winner = min(fired, key=lambda item: (item[1].priority, item[0]))
        if self.mode == "all":
            joined = "; ".join(f"{d.source}: {d.reason}" for d in decisions)
            return replace(winner, reason=joined)
        return winner

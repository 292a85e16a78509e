"""Pluggable rebalance sub-strategies for funding arbitrage, chosen by the config's `type`.

`build_rebalance_strategy(policy_config)` is the factory: each config class maps to one
policy class, and `combined` builds its children recursively, so any policy (or mix of
them) is swapped in from the YAML alone.
"""

from __future__ import annotations

from strategies.implementations.funding_arbitrage.config import (
    BetterOpportunityPolicy,
    CombinedPolicy,
    DivergenceFlipPolicy,
    LiquidationRiskPolicy,
    ProfitErosionPolicy,
    RebalancePolicy,
    TimeBasedPolicy,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies.base import (
    RebalanceStrategy,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies.better_opportunity import (
    BetterOpportunity,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies.combined import Combined
from strategies.implementations.funding_arbitrage.rebalance_strategies.divergence_flip import (
    DivergenceFlip,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies.liquidation_risk import (
    LiquidationRisk,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies.profit_erosion import (
    ProfitErosion,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies.time_based import (
    TimeBased,
)

__all__ = [
    "BetterOpportunity",
    "Combined",
    "DivergenceFlip",
    "LiquidationRisk",
    "ProfitErosion",
    "RebalanceStrategy",
    "TimeBased",
    "build_rebalance_strategy",
]


def build_rebalance_strategy(policy: RebalancePolicy) -> RebalanceStrategy:
    """The policy object for a validated policy config."""
    if isinstance(policy, ProfitErosionPolicy):
        return ProfitErosion(policy.min_erosion, policy.priority)
    if isinstance(policy, DivergenceFlipPolicy):
        return DivergenceFlip(policy.flip_margin_apr, policy.priority)
    if isinstance(policy, BetterOpportunityPolicy):
        return BetterOpportunity(policy.min_gain_usd, policy.priority)
    if isinstance(policy, TimeBasedPolicy):
        return TimeBased(policy.max_hold_hours, policy.priority)
    if isinstance(policy, LiquidationRiskPolicy):
        return LiquidationRisk(
            policy.min_distance,
            policy.critical_distance,
            policy.action,
            policy.reduce_fraction,
            policy.priority,
        )
    if isinstance(policy, CombinedPolicy):
        children = [build_rebalance_strategy(child) for child in policy.policies]
        return Combined(children, policy.mode, policy.priority)
    raise TypeError(f"no rebalance strategy for config {type(policy).__name__}")

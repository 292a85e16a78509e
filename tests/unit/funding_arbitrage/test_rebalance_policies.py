"""Each rebalance policy fires exactly when it should, on hand-computed inputs."""

from __future__ import annotations

import pytest

from strategies.implementations.funding_arbitrage.config import FundingArbitrageConfig
from strategies.implementations.funding_arbitrage.decisions import (
    RebalanceAction,
    Reduce,
    Switch,
    TopUpMargin,
)
from strategies.implementations.funding_arbitrage.models import Leg
from strategies.implementations.funding_arbitrage.rebalance_strategies import (
    BetterOpportunity,
    Combined,
    DivergenceFlip,
    LiquidationRisk,
    ProfitErosion,
    TimeBased,
    build_rebalance_strategy,
)

from .helpers import T0, D, later, market, opportunity, position

CLOSE, HOLD = RebalanceAction.CLOSE, RebalanceAction.HOLD


# ---------------------------------------------------------------- profit_erosion


def test_profit_erosion_closes_when_half_the_entry_divergence_is_gone():
    policy = ProfitErosion(D("0.5"), priority=20)
    decision = policy.evaluate(position(), market("0.20"), T0)  # 40 % -> 20 % APR: 50 % gone
    assert decision.action is CLOSE and decision.source == "profit_erosion"
    assert "eroded 50.00%" in decision.reason


def test_profit_erosion_holds_while_less_has_eroded():
    decision = ProfitErosion(D("0.5"), 20).evaluate(position(), market("0.21"), T0)
    assert decision.action is HOLD and "eroded 47.50%" in decision.reason


def test_profit_erosion_holds_without_a_fresh_rate():
    decision = ProfitErosion(D("0.5"), 20).evaluate(position(), market(None), T0)
    assert decision.action is HOLD and "no fresh funding rate" in decision.reason


# ---------------------------------------------------------------- divergence_flip


def test_divergence_flip_closes_when_we_start_paying():
    decision = DivergenceFlip(D("0.05"), 10).evaluate(position(), market("-0.05"), T0)
    assert decision.action is CLOSE and "now pays less" in decision.reason


def test_divergence_flip_holds_inside_the_margin():
    assert DivergenceFlip(D("0.05"), 10).evaluate(position(), market("-0.04"), T0).action is HOLD
    assert DivergenceFlip(D(0), 10).evaluate(position(), market("0.0001"), T0).action is HOLD


# ---------------------------------------------------------------- better_opportunity


def test_better_opportunity_switches_when_the_gain_beats_the_new_round_trip():
    # 10,000 USD over 168 h: (80 % - 40 %) APR is 10,000 * 0.4/8760 * 168 = 76.71 USD of
    # extra funding, against 10,000 * 0.001 = 10 USD of fees to open and close the new pair.
    target = opportunity("0.80", cost_rate="0.001")
    decision = BetterOpportunity(D(0), 40).evaluate(position(), market(alternatives=(target,)), T0)
    assert isinstance(decision, Switch) and decision.target == target
    assert "+76.71 USD" in decision.reason and "10.00 USD of fees" in decision.reason


def test_better_opportunity_holds_when_fees_eat_the_gain():
    # 76.71 USD of extra funding against 80 USD of fees.
    target = opportunity("0.80", cost_rate="0.008")
    decision = BetterOpportunity(D(0), 40).evaluate(position(), market(alternatives=(target,)), T0)
    assert decision.action is HOLD


def test_better_opportunity_requires_the_minimum_gain_on_top():
    target = opportunity("0.80", cost_rate="0.001")  # 66.71 USD net
    held = BetterOpportunity(D(67), 40).evaluate(position(), market(alternatives=(target,)), T0)
    assert held.action is HOLD
    fired = BetterOpportunity(D(66), 40).evaluate(position(), market(alternatives=(target,)), T0)
    assert isinstance(fired, Switch)


def test_better_opportunity_never_switches_to_its_own_pair():
    own = opportunity("0.90", symbol="ETH")
    decision = BetterOpportunity(D(0), 40).evaluate(position(), market(alternatives=(own,)), T0)
    assert decision.action is HOLD


# ---------------------------------------------------------------- time_based


def test_time_based_closes_after_the_maximum_hold():
    decision = TimeBased(D(24), 30).evaluate(position(), market(), later(24))
    assert decision.action is CLOSE and "held 24.00 h of at most 24.00 h" in decision.reason


def test_time_based_holds_before():
    assert TimeBased(D(24), 30).evaluate(position(), market(), later(23.9)).action is HOLD


# ---------------------------------------------------------------- liquidation_risk


def liquidation(action="reduce"):
    return LiquidationRisk(D("0.15"), D("0.05"), action, D("0.5"), 0)


def test_liquidation_risk_reduces_a_leg_getting_close():
    # Short leg: mark 3000, liquidation 3300: 10 % away, below 15 %.
    decision = liquidation().evaluate(position(), market(short_liq="3300"), T0)
    assert isinstance(decision, Reduce) and decision.fraction == D("0.5")
    assert "short leg on hyperliquid is 10.00% from liquidation" in decision.reason


def test_a_reduce_needs_a_fraction_strictly_between_zero_and_one():
    for fraction in (D(0), D(1), D("1.5")):
        with pytest.raises(ValueError, match="a reduce needs a fraction between 0 and 1"):
            Reduce(reason="x", priority=0, source="test", fraction=fraction)


def test_liquidation_risk_can_ask_for_margin_instead():
    decision = liquidation("top_up_margin").evaluate(position(), market(short_liq="3300"), T0)
    assert isinstance(decision, TopUpMargin) and decision.leg is Leg.SHORT
    assert decision.amount_usd == D("150.00")  # (15 % - 10 %) of the 3,000 USD notional


def test_liquidation_risk_closes_below_the_critical_distance():
    decision = liquidation().evaluate(position(), market(long_liq="2880"), T0)  # 4 % away
    assert decision.action is CLOSE


def test_liquidation_risk_holds_when_both_legs_are_far():
    decision = liquidation().evaluate(position(), market("0.4", "2000", "4000"), T0)
    assert decision.action is HOLD
    assert liquidation().evaluate(position(), market(), T0).action is HOLD  # no prices


# ---------------------------------------------------------------- combined


def children():
    # Priorities: liquidation 0, flip 10, erosion 20, time 30.
    return [
        TimeBased(D(24), 30),
        ProfitErosion(D("0.5"), 20),
        DivergenceFlip(D(0), 10),
        LiquidationRisk(D("0.15"), D("0.05"), "reduce", D("0.5"), 0),
    ]


def test_combined_priority_picks_the_lowest_priority_number_that_fired():
    # Flip (10), erosion (20) and time (30) all fire: the flip decides.
    decision = Combined(children(), "priority", 0).evaluate(position(), market("-0.1"), later(30))
    assert decision.source == "divergence_flip" and decision.priority == 10


def test_combined_priority_lets_a_reduce_outrank_a_close_by_number():
    decision = Combined(children(), "priority", 0).evaluate(
        position(), market("-0.1", short_liq="3300"), later(1)
    )
    assert isinstance(decision, Reduce) and decision.source == "liquidation_risk"


def test_combined_any_prefers_the_more_decisive_action():
    decision = Combined(children(), "any", 0).evaluate(
        position(), market("-0.1", short_liq="3300"), later(1)
    )
    assert decision.action is CLOSE and decision.source == "divergence_flip"


def test_combined_ties_go_to_the_policy_listed_first():
    first, second = TimeBased(D(1), 5), ProfitErosion(D("0.1"), 5)
    decision = Combined([first, second], "priority", 0).evaluate(position(), market("0"), later(2))
    assert decision.source == "time_based"
    decision = Combined([second, first], "priority", 0).evaluate(position(), market("0"), later(2))
    assert decision.source == "profit_erosion"


def test_combined_all_waits_until_every_policy_fires():
    policies = [TimeBased(D(24), 30), DivergenceFlip(D(0), 10)]
    waiting = Combined(policies, "all", 0).evaluate(position(), market("-0.1"), later(1))
    assert waiting.action is HOLD and "not yet: time_based" in waiting.reason
    fired = Combined(policies, "all", 0).evaluate(position(), market("-0.1"), later(25))
    assert fired.action is CLOSE and fired.source == "divergence_flip"
    assert "time_based:" in fired.reason and "divergence_flip:" in fired.reason


def test_combined_holds_when_nothing_fires():
    decision = Combined(children(), "priority", 0).evaluate(position(), market("0.4"), later(1))
    assert decision.action is HOLD


@pytest.mark.parametrize("mode", ["priority", "any", "all"])
def test_policies_are_built_from_config_nested_combined_included(mode):
    config = FundingArbitrageConfig.model_validate(
        {
            "type": "funding_arbitrage",
            "name": "arb",
            "venues": [{"name": "lighter"}, {"name": "hyperliquid"}],
            "symbols": ["ETH"],
            "sizing": {"position_size_usd": 1000, "leverage": 3},
            "horizon_hours": 168,
            "entry": {"min_apr": "0.1", "max_breakeven_hours": 48},
            "risk": {
                "max_position_usd": 1000,
                "max_total_exposure_usd": 5000,
                "max_positions": 3,
                "max_leverage": 5,
                "min_liquidation_distance": "0.1",
            },
            "rebalance": {
                "type": "combined",
                "mode": mode,
                "policies": [
                    {"type": "divergence_flip", "flip_margin_apr": "0.02"},
                    {
                        "type": "combined",
                        "mode": "any",
                        "policies": [
                            {"type": "time_based", "max_hold_hours": 48, "priority": 3},
                            {"type": "better_opportunity", "min_gain_usd": 5},
                            {
                                "type": "liquidation_risk",
                                "min_distance": "0.2",
                                "critical_distance": "0.1",
                            },
                            {"type": "profit_erosion", "min_erosion": "0.6"},
                        ],
                    },
                ],
            },
        }
    )
    policy = build_rebalance_strategy(config.rebalance)
    assert isinstance(policy, Combined) and policy.mode == mode
    flip, inner = policy.children
    assert isinstance(flip, DivergenceFlip) and flip.flip_margin_apr == D("0.02")
    assert [type(c).__name__ for c in inner.children] == [
        "TimeBased",
        "BetterOpportunity",
        "LiquidationRisk",
        "ProfitErosion",
    ]
    assert [c.priority for c in inner.children] == [3, 40, 0, 20]

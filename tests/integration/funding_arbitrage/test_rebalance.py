"""Rebalance decisions carried out on paper venues: operator close, switch, reduce, top-up."""

from __future__ import annotations

import uuid

from core.enums import PositionStatus
from strategies.implementations.funding_arbitrage.decisions import Hold, Reduce, Switch
from strategies.implementations.funding_arbitrage.models import PhaseSkipped

from .conftest import D, Market, base_config

HOURS = 3


def eth(market: Market, marks=(3000, 3000, 3000), sol_short_rate="0.00001") -> None:
    market.ticks("lighter", "ETH", list(marks), ["0.00001"] * HOURS)
    market.ticks("hyperliquid", "ETH", list(marks), ["0.00005"] * HOURS)
    market.ticks("lighter", "SOL", [150] * HOURS, ["0.00001"] * HOURS)
    # SOL pays nothing at first, then 2e-4 an hour on hyperliquid from 01:00.
    market.ticks("hyperliquid", "SOL", [150] * HOURS, ["0.00001", sol_short_rate, sol_short_rate])
    market.venue("lighter")
    market.venue("hyperliquid")
    market.collect()


def opened(market: Market, **config):
    strategy = market.strategy(base_config(symbols=["ETH", "SOL"], **config))
    assert strategy.open_positions(market.clock.now()).ok
    [position] = strategy.position_manager.find("arb")
    assert position.symbol == "ETH" and position.status is PositionStatus.OPEN
    return strategy, position


def test_an_operator_reason_closes_a_position_the_policy_would_hold(market: Market):
    eth(market)
    strategy, position = opened(market)
    held = strategy.rebalance(market.clock.now(), position_id=position.id)
    assert held.ok and isinstance(held.actions[0].decision, Hold)
    assert strategy.position_manager.get(position.id).status is PositionStatus.OPEN
    result = strategy.rebalance(market.clock.now(), position_id=position.id, reason="maintenance")
    assert result.ok, result.error
    [outcome] = result.actions
    assert outcome.decision.source == "operator"
    closed = strategy.position_manager.get(position.id)
    assert closed.status is PositionStatus.CLOSED
    assert closed.close_reason.startswith("operator: operator: maintenance (policy would hold")
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))


def test_a_much_better_pair_is_switched_to(market: Market):
    eth(market, sol_short_rate="0.0002")
    strategy, position = opened(
        market, rebalance={"type": "better_opportunity", "min_gain_usd": "10"}
    )
    market.advance_to(1)
    market.collect()
    result = strategy.rebalance(market.clock.now())
    assert result.ok, result.error
    [outcome] = result.actions
    assert isinstance(outcome.decision, Switch)
    assert outcome.decision.target.key == ("SOL", "lighter", "hyperliquid")
    old = strategy.position_manager.get(position.id)
    assert old.status is PositionStatus.CLOSED
    assert old.close_reason.startswith("better_opportunity: SOL long lighter short hyperliquid")
    [new] = strategy.position_manager.find("arb", [PositionStatus.OPEN])
    assert new.symbol == "SOL" and new.long_qty == new.short_qty == D(20)
    assert (market.held("lighter", "ETH"), market.held("hyperliquid", "ETH")) == (D(0), D(0))
    assert (market.held("lighter", "SOL"), market.held("hyperliquid", "SOL")) == (D(20), D(-20))


def test_a_leg_near_liquidation_is_reduced_on_both_venues(market: Market):
    # The price runs from 3000 to 3500: the short (liquidation near 3921.57) is 12 % away.
    eth(market, marks=(3000, 3500, 3500))
    policy = {
        "type": "liquidation_risk",
        "min_distance": "0.15",
        "critical_distance": "0.05",
        "reduce_fraction": "0.5",
    }
    strategy, position = opened(market, rebalance=policy)
    market.advance_to(1)
    market.collect()
    result = strategy.rebalance(market.clock.now())
    assert result.ok, result.error
    [outcome] = result.actions
    assert isinstance(outcome.decision, Reduce)
    assert "short leg on hyperliquid is 12.04% from liquidation" in outcome.decision.reason
    reduced = strategy.position_manager.get(position.id)
    assert reduced.status is PositionStatus.OPEN
    assert reduced.long_qty == reduced.short_qty == D("0.5")
    assert reduced.size_usd == D(1500)
    assert (market.held("lighter"), market.held("hyperliquid")) == (D("0.5"), D("-0.5"))
    assert strategy.monitor(market.clock.now()).ok  # the venues agree with the position


def test_a_top_up_decision_is_recorded_for_the_operator(market: Market):
    eth(market, marks=(3000, 3500, 3500))
    policy = {
        "type": "liquidation_risk",
        "min_distance": "0.15",
        "critical_distance": "0.05",
        "action": "top_up_margin",
    }
    strategy, position = opened(market, rebalance=policy)
    market.advance_to(1)
    market.collect()
    assert strategy.rebalance(market.clock.now()).ok
    [event] = market.events("margin.top_up_requested")
    assert event.payload["venue"] == "hyperliquid" and event.entity_id == str(position.id)
    assert strategy.position_manager.get(position.id).long_qty == D(1)


def test_operator_calls_on_unknown_or_finished_positions_say_so(market: Market):
    eth(market)
    strategy, position = opened(market)
    unknown = uuid.uuid4()
    result = strategy.rebalance(market.clock.now(), position_id=unknown, reason="x")
    assert not result.ok
    assert result.error.hook == "rebalance"
    assert f"strategy arb has no position {unknown}" in result.error.message
    assert strategy.close_position(position.id, "done", market.clock.now()).ok
    again = strategy.close_position(position.id, "again", market.clock.now())
    assert again.ok and again.actions == (
        PhaseSkipped("close", f"position {position.id} is closed"),
    )
    refused = strategy.rebalance(market.clock.now(), position_id=position.id)
    assert not refused.ok and "is closed, not open" in refused.error.message
    assert market.venue_orders("lighter") == market.venue_orders("hyperliquid") == 2

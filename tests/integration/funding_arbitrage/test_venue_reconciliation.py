"""Reconciliation against the venues, both directions, before any new order (issue 16).

Every phase that trades repairs first: a leg the venue holds more of than our fills is
traded back (reduce-only), never declared hedged on the smaller of the two numbers; a
position the strategy never opened stops all new exposure and asks for a halt.
"""

from __future__ import annotations

from core.enums import OrderSide, OrderType, PositionStatus
from strategies.base_strategy import HaltRequested
from strategies.components.base_components import OrderIntent
from strategies.implementations.funding_arbitrage.models import PhaseSkipped

from .conftest import D, Market, base_config

MARKS = [D(3000)] * 4


def prepare(market: Market, symbols=("ETH",), size="2970"):
    for symbol in symbols:
        market.ticks("lighter", symbol, MARKS, ["0.00001"] * 4)
        market.ticks("hyperliquid", symbol, MARKS, ["0.00005"] * 4)
    market.venue("lighter", deposit=50_000)
    market.venue("hyperliquid", deposit=50_000)
    market.collect()
    config = base_config(
        symbols=list(symbols),
        sizing={"position_size_usd": size, "leverage": "3"},
    )
    return market.strategy(config), config


def by_hand(market: Market, venue: str, side: OrderSide, qty: str, symbol="ETH", tag="hand"):
    """An order placed on the venue behind the strategy's back (another process, a person)."""
    intent = OrderIntent(tag, "someone-else", venue, symbol, side, OrderType.MARKET, D(qty), "test")
    market.venues[venue].place_order(intent.request())


def test_an_increased_leg_is_traded_back_before_any_new_order(market: Market):
    """The issue's case: the long leg grew on the venue from 0.99 to 1.49 ETH while every
    process was down. The next open phase removes the extra 0.50 ETH (reduce-only) before
    it opens anything, and the position stays hedged at 0.99 on both legs."""
    strategy, config = prepare(market, symbols=("ETH", "SOL"))
    assert strategy.open_positions(market.clock.now()).ok
    [eth] = strategy.position_manager.find("arb", [PositionStatus.OPEN], "ETH")
    assert (eth.long_qty, eth.short_qty) == (D("0.99"), D("0.99"))
    for p in strategy.position_manager.find("arb", [PositionStatus.OPEN]):  # SOL too
        if p.symbol == "SOL":
            strategy.close_position(p.id, "test: make room", market.clock.now())
    orders_before = len(market.journal())
    by_hand(market, "lighter", OrderSide.BUY, "0.50")
    assert market.held("lighter") == D("1.49")

    restarted = market.strategy(config)
    result = restarted.open_positions(market.clock.now())
    assert result.ok, result.error

    assert (market.held("lighter"), market.held("hyperliquid")) == (D("0.99"), D("-0.99"))
    eth = restarted.position_manager.get(eth.id)
    assert eth.status is PositionStatus.OPEN
    assert (eth.long_qty, eth.short_qty) == (D("0.99"), D("0.99"))
    new = market.journal()[orders_before:]
    # The first order after the change is the reduce-only sell of the extra 0.50 ETH.
    assert (new[0].venue, new[0].symbol, new[0].side, new[0].quantity, new[0].reduce_only) == (
        "lighter",
        "ETH",
        "sell",
        D("0.50"),
        True,
    )
    [unhedged] = market.events("position.unhedged")
    assert "lighter holds 1.49 ETH, position expects 0.99" in unhedged.payload["detail"]
    # ... and only then the free SOL pair is opened again.
    assert {(o.symbol, o.purpose) for o in new[1:]} == {("SOL", "open")}
    # Stable: a second pass finds nothing to repair (no unhedged -> "hedged" loop).
    count = len(market.events("position.unhedged"))
    assert restarted.monitor(market.clock.now()).ok
    assert len(market.events("position.unhedged")) == count
    assert (market.held("lighter"), market.held("hyperliquid")) == (D("0.99"), D("-0.99"))


def test_an_increased_short_leg_is_traded_back_too(market: Market):
    strategy, _ = prepare(market)
    assert strategy.open_positions(market.clock.now()).ok
    by_hand(market, "hyperliquid", OrderSide.SELL, "0.30")
    assert strategy.monitor(market.clock.now()).ok
    assert (market.held("lighter"), market.held("hyperliquid")) == (D("0.99"), D("-0.99"))
    [position] = strategy.position_manager.find("arb", [PositionStatus.OPEN])
    assert (position.long_qty, position.short_qty) == (D("0.99"), D("0.99"))


def test_a_reduced_leg_trims_the_other_before_any_new_order(market: Market):
    strategy, _ = prepare(market)
    assert strategy.open_positions(market.clock.now()).ok
    by_hand(market, "lighter", OrderSide.SELL, "0.49")
    result = strategy.open_positions(market.clock.now())
    assert result.ok
    assert (market.held("lighter"), market.held("hyperliquid")) == (D("0.50"), D("-0.50"))
    [position] = strategy.position_manager.find("arb", [PositionStatus.OPEN])
    assert (position.long_qty, position.short_qty) == (D("0.50"), D("0.50"))


def test_a_position_never_opened_halts_and_blocks_every_open(market: Market):
    strategy, _ = prepare(market, symbols=("ETH", "SOL"))
    by_hand(market, "hyperliquid", OrderSide.BUY, "2", symbol="SOL")
    result = strategy.open_positions(market.clock.now())
    assert result.ok
    halts = [a for a in result.actions if isinstance(a, HaltRequested)]
    assert [h.rule for h in halts] == ["reconcile.foreign_position"]
    assert "hyperliquid holds 2 SOL" in halts[0].reason
    [skipped] = [a for a in result.actions if isinstance(a, PhaseSkipped)]
    assert skipped.phase == "open" and "no new exposure" in skipped.reason
    assert strategy.position_manager.find("arb") == []  # nothing opened, ETH neither
    assert market.held("hyperliquid", "SOL") == D(2)  # never traded over on a guess
    assert [e.kind for e in market.events("reconcile.foreign_position")] == [
        "reconcile.foreign_position"
    ]


def test_open_refuses_while_a_venue_of_its_positions_cannot_be_read(market: Market):
    """What lighter holds is unknown: nothing may be opened anywhere until it is."""
    strategy, _ = prepare(market, symbols=("ETH", "SOL"))
    assert strategy.open_positions(market.clock.now()).ok
    [eth] = strategy.position_manager.find("arb", [PositionStatus.OPEN], "ETH")
    for p in strategy.position_manager.find("arb", [PositionStatus.OPEN]):
        if p.symbol == "SOL":
            strategy.close_position(p.id, "test: make room", market.clock.now())
    down = dict(market.venues)
    down["lighter"] = _Unreachable(market.venues["lighter"])
    config = base_config(
        symbols=["ETH", "SOL"], sizing={"position_size_usd": "2970", "leverage": "3"}
    )
    blocked = market.strategy(config, venues=down)
    result = blocked.open_positions(market.clock.now())
    assert result.ok
    [skipped] = [a for a in result.actions if isinstance(a, PhaseSkipped) and a.phase == "open"]
    assert "lighter" in skipped.reason
    assert [p.symbol for p in blocked.position_manager.find_active("arb")] == ["ETH"]
    assert blocked.position_manager.get(eth.id).status is PositionStatus.OPEN


class _Unreachable:
    """A venue whose positions cannot be read (everything else passes through)."""

    def __init__(self, inner):
        self._inner = inner

    def positions(self):
        from exchanges.base import TransientExchangeError

        raise TransientExchangeError("lighter", "connection refused (test)")

    def __getattr__(self, name):
        return getattr(self._inner, name)

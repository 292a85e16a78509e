"""A process that dies in the middle of an open or a close: the next instance's reconcile
finishes the operation or unwinds it, with the same client ids (never a second order)."""

from __future__ import annotations

from datetime import timedelta

from core.enums import OrderSide, OrderStatus, OrderType, PositionStatus
from strategies.components.base_components import NewPosition, OrderIntent
from strategies.implementations.funding_arbitrage.models import Leg
from strategies.implementations.funding_arbitrage.operations.leg_orders import client_order_id

from .conftest import D, Market

MARKS = [D(3000)] * 4


def prepare(market: Market):
    market.ticks("lighter", "ETH", MARKS, ["0.00001"] * 4)
    market.ticks("hyperliquid", "ETH", MARKS, ["0.00005"] * 4)
    market.venue("lighter")
    market.venue("hyperliquid")
    market.collect()
    return market.strategy()


def intent(position, leg: Leg, venue: str, purpose: str = "open", reduce_only: bool = False):
    side = leg.opening_side if purpose == "open" else leg.closing_side
    return OrderIntent(
        client_order_id=client_order_id(position.id, leg, purpose),
        strategy_name="arb",
        venue=venue,
        symbol="ETH",
        side=side,
        order_type=OrderType.MARKET,
        quantity=D(1),
        purpose=purpose,
        reduce_only=reduce_only,
        position_id=position.id,
    )


def crash_after_long_leg(strategy):
    """What a process leaves behind when it dies after sending only the long leg."""
    position = strategy.position_manager.open(
        NewPosition("arb", "ETH", "lighter", "hyperliquid", D(3000), D("0.00004"))
    )
    executor = strategy.components.orders
    long_intent = intent(position, Leg.LONG, "lighter")
    short_intent = intent(position, Leg.SHORT, "hyperliquid")
    executor.journal.record_intent(long_intent)
    executor.journal.record_intent(short_intent)
    assert executor.submit(long_intent).status is OrderStatus.FILLED
    return position, short_intent


def test_restart_soon_after_a_half_open_finishes_the_open(market: Market):
    position, _ = crash_after_long_leg(prepare(market))
    restarted = market.strategy()
    restarted.start()
    position = restarted.position_manager.get(position.id)
    assert position.status is PositionStatus.OPEN
    assert position.long_qty == position.short_qty == D(1)
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(1), D(-1))
    assert market.venue_orders("lighter") == market.venue_orders("hyperliquid") == 1


def test_restart_long_after_a_half_open_unwinds_the_filled_leg(market: Market):
    position, short_intent = crash_after_long_leg(prepare(market))
    market.clock.advance(timedelta(minutes=5))  # far past execution.max_leg_skew_seconds
    restarted = market.strategy()
    restarted.start()
    position = restarted.position_manager.get(position.id)
    assert position.status is PositionStatus.FAILED
    assert "no fill" in position.close_reason or "cancelled" in position.close_reason
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))
    short = restarted.components.orders.journal.get(short_intent.client_order_id)
    assert short.status is OrderStatus.CANCELLED  # abandoned: it can never be sent now
    assert market.venue_orders("hyperliquid") == 0
    assert market.venue_orders("lighter") == 2
    restarted.start()  # a second restart changes nothing
    assert market.venue_orders("lighter") == 2


def test_an_order_sent_just_before_the_crash_is_found_by_its_client_id(market: Market):
    strategy = prepare(market)
    position, short_intent = crash_after_long_leg(strategy)
    # The short request reached the venue, but the process died before recording the answer.
    journal = strategy.components.orders.journal
    journal.set_status(short_intent.client_order_id, OrderStatus.SENT)
    market.venues["hyperliquid"].place_order(short_intent.request())
    market.clock.advance(timedelta(minutes=5))
    restarted = market.strategy()
    restarted.start()
    position = restarted.position_manager.get(position.id)
    assert position.status is PositionStatus.OPEN
    assert market.venue_orders("hyperliquid") == market.venue_orders("lighter") == 1
    assert journal.get(short_intent.client_order_id).status is OrderStatus.FILLED


def test_restart_in_the_middle_of_a_close_finishes_the_close(market: Market):
    strategy = prepare(market)
    assert strategy.open_positions(market.clock.now()).ok
    [position] = strategy.position_manager.find("arb")
    strategy.position_manager.mark_status(position.id, PositionStatus.CLOSING, "test: flip")
    closing_long = intent(position, Leg.LONG, "lighter", "close", reduce_only=True)
    assert strategy.components.orders.submit(closing_long).status is OrderStatus.FILLED
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(-1))
    restarted = market.strategy()
    assert restarted.monitor(market.clock.now()).ok  # monitor reconciles first
    position = restarted.position_manager.get(position.id)
    assert position.status is PositionStatus.CLOSED
    assert position.close_reason == "test: flip"
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))
    assert market.venue_orders("lighter") == market.venue_orders("hyperliquid") == 2


def test_a_liquidated_leg_is_noticed_by_monitor_and_the_other_leg_closed(market: Market):
    strategy = prepare(market)
    assert strategy.open_positions(market.clock.now()).ok
    [position] = strategy.position_manager.find("arb")
    # The short leg disappears from the venue (as after a liquidation): close it by hand.
    hand = OrderIntent(
        "manual-close",
        "other",
        "hyperliquid",
        "ETH",
        OrderSide.BUY,
        OrderType.MARKET,
        D(1),
        "test",
        reduce_only=True,
    )
    market.venues["hyperliquid"].place_order(hand.request())
    assert strategy.monitor(market.clock.now()).ok
    position = strategy.position_manager.get(position.id)
    assert position.status is PositionStatus.CLOSED
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))
    assert [e.kind for e in market.events("position.unhedged")] == ["position.unhedged"]
    # Our journal never saw the short's exit: it is valued at the mark (3000), so the
    # trading PnL is 0 and only the fees remain (lighter charges none).
    assert "short leg (1) was closed outside perpbot" in position.close_reason
    assert position.realized_pnl_usd == -position.fees_usd
    assert position.fees_usd == D(3000) * D("0.00045")

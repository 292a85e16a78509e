"""A leg that fails must never leave the other one naked, and no retry sends an order twice."""

from __future__ import annotations

import time
from datetime import timedelta

from core.enums import OrderStatus, PositionStatus
from strategies.implementations.funding_arbitrage.decisions import OpenRefused, RefusalRule
from strategies.implementations.funding_arbitrage.models import ExecutionReport

from .conftest import D, Market, base_config
from .venues import BusyVenue, FlakyLookups, PartialFills

MARKS = [D(3000)] * 4
FAST = {
    "max_leg_skew_seconds": 0.3,
    "unwind_timeout_seconds": 0.5,
    "retry_interval_seconds": 0.01,
}


def prepare(market: Market, **hyperliquid: object) -> None:
    market.ticks("lighter", "ETH", MARKS, ["0.00001"] * 4)
    market.ticks("hyperliquid", "ETH", MARKS, ["0.00005"] * 4)
    market.venue("lighter")
    market.venue("hyperliquid", **hyperliquid)
    market.collect()


def only_position(strategy):
    [position] = strategy.position_manager.find("arb")
    return position


def test_a_rejected_leg_is_unwound_and_the_pair_waits_before_a_retry(market: Market):
    prepare(market, faults={"reject_rate": 1.0})
    strategy = market.strategy(base_config(execution=FAST))
    started = time.monotonic()
    result = strategy.open_positions(market.clock.now())
    elapsed = time.monotonic() - started
    assert result.ok, result.error
    [report] = result.actions
    assert isinstance(report, ExecutionReport) and report.status is PositionStatus.FAILED
    position = only_position(strategy)
    assert position.status is PositionStatus.FAILED
    assert "sell 1 ETH on hyperliquid rejected" in position.close_reason
    assert "legs flat" in position.close_reason
    # No exposure anywhere, within the configured bounds (skew + unwind, plus slack).
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))
    assert elapsed < FAST["max_leg_skew_seconds"] + FAST["unwind_timeout_seconds"] + 2
    assert market.venue_orders("lighter") == 2  # the open and its unwind
    assert market.venue_orders("hyperliquid") == 0  # rejected orders are not stored
    assert [e.kind for e in market.events("position.unwound")] == ["position.unwound"]

    # Retries: reconcile, monitor and the open phase again, from a fresh instance too.
    for instance in (strategy, market.strategy(base_config(execution=FAST))):
        assert instance.monitor(market.clock.now()).ok
        again = instance.open_positions(market.clock.now())
        assert [type(a) for a in again.actions] == [OpenRefused]
        assert again.actions[0].rule is RefusalRule.COOLDOWN
        assert "failed_open_cooldown_seconds" in again.actions[0].detail
    assert market.venue_orders("lighter") == 2
    assert len(market.journal()) == 3  # two opening intents and one unwind


def test_a_timeout_after_fill_is_resolved_by_lookup_without_a_second_order(market: Market):
    prepare(market, faults={"timeout_after_fill_rate": 1.0})
    strategy = market.strategy(base_config(execution=FAST))
    result = strategy.open_positions(market.clock.now())
    assert result.ok, result.error
    position = only_position(strategy)
    assert position.status is PositionStatus.OPEN
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(1), D(-1))
    for instance in (strategy, market.strategy(base_config(execution=FAST))):
        assert instance.monitor(market.clock.now()).ok
        assert instance.open_positions(market.clock.now()).ok
        assert instance.reconcile(market.clock.now()).ok
    assert market.venue_orders("lighter") == market.venue_orders("hyperliquid") == 1
    assert [o.status for o in market.journal()] == ["filled", "filled"]


def test_an_unknown_outcome_waits_for_reconcile_and_is_never_resent(market: Market):
    prepare(market, faults={"timeout_after_fill_rate": 1.0})
    flaky = FlakyLookups(market.venues["hyperliquid"])
    venues = {"lighter": market.venues["lighter"], "hyperliquid": flaky}
    strategy = market.strategy(base_config(execution=FAST), venues)
    assert strategy.open_positions(market.clock.now()).ok
    position = only_position(strategy)
    assert position.status is PositionStatus.NEEDS_RECONCILE
    short_order = next(o for o in market.journal() if o.venue == "hyperliquid")
    assert short_order.status == OrderStatus.UNKNOWN.value
    # While the venue cannot say, nothing is resent and nothing is unwound blindly.
    assert strategy.monitor(market.clock.now()).ok
    assert only_position(strategy).status is PositionStatus.NEEDS_RECONCILE
    assert market.venue_orders("hyperliquid") == 1 and market.venue_orders("lighter") == 1
    flaky.down = False
    assert strategy.monitor(market.clock.now()).ok
    position = only_position(strategy)
    assert position.status is PositionStatus.OPEN
    assert position.long_qty == position.short_qty == D(1)
    assert market.venue_orders("hyperliquid") == market.venue_orders("lighter") == 1


def test_a_partial_fill_trims_the_bigger_leg_to_the_matched_size(market: Market):
    prepare(market)
    partial = PartialFills(market.venues["hyperliquid"], D("0.5"), D("0.01"))
    venues = {"lighter": market.venues["lighter"], "hyperliquid": partial}
    strategy = market.strategy(base_config(execution=FAST), venues)
    assert strategy.open_positions(market.clock.now()).ok
    position = only_position(strategy)
    assert position.status is PositionStatus.OPEN
    assert position.long_qty == position.short_qty == D("0.5")
    assert (market.held("lighter"), market.held("hyperliquid")) == (D("0.5"), D("-0.5"))
    purposes = sorted((o.venue, o.purpose, o.quantity) for o in market.journal())
    assert purposes == [
        ("hyperliquid", "open", D(1)),
        ("lighter", "open", D(1)),
        ("lighter", "unwind", D("0.5")),
    ]


def test_a_leg_that_cannot_be_closed_is_rehedged_instead_of_left_naked(market: Market):
    prepare(market)
    strategy = market.strategy(base_config(execution=FAST))
    assert strategy.open_positions(market.clock.now()).ok
    position = only_position(strategy)
    refusing = market.venue("hyperliquid", deposit=0, faults={"reject_rate": 1.0})
    venues = {"lighter": market.venues["lighter"], "hyperliquid": refusing}
    policy = {"type": "time_based", "max_hold_hours": "0.01"}
    closing = market.strategy(base_config(execution=FAST, rebalance=policy), venues)
    result = closing.close_position(position.id, "test", market.clock.now())
    assert result.ok, result.error
    position = closing.position_manager.get(position.id)
    assert position.status is PositionStatus.OPEN
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(1), D(-1))
    assert [e.kind for e in market.events("position.close_failed")] == ["position.close_failed"]
    purposes = [o.purpose for o in market.journal() if o.venue == "lighter"]
    assert purposes == ["open", "close", "rehedge"]
    # The policy wants it closed (held too long), but a retry waits: each one costs fees.
    market.clock.advance(timedelta(minutes=1))
    [waiting] = closing.rebalance(market.clock.now()).actions
    assert waiting.done.startswith("waiting: the close failed at")
    assert market.venue_orders("lighter") == 3
    market.clock.advance(timedelta(seconds=300))
    [retried] = closing.rebalance(market.clock.now()).actions
    assert retried.done.startswith("close -> open: hedged 1 ETH on both legs (close failed")
    assert market.venue_orders("lighter") == 5


def test_a_busy_venue_is_retried_within_the_skew_window(market: Market):
    prepare(market)
    busy = BusyVenue(market.venues["hyperliquid"], failures=3)
    venues = {"lighter": market.venues["lighter"], "hyperliquid": busy}
    strategy = market.strategy(base_config(execution=FAST), venues)
    assert strategy.open_positions(market.clock.now()).ok
    assert only_position(strategy).status is PositionStatus.OPEN
    assert busy.attempts == 4
    assert market.venue_orders("hyperliquid") == market.venue_orders("lighter") == 1


def test_a_venue_busy_past_the_skew_window_gets_nothing_and_the_other_leg_is_unwound(
    market: Market,
):
    prepare(market)
    busy = BusyVenue(market.venues["hyperliquid"], failures=10_000)
    venues = {"lighter": market.venues["lighter"], "hyperliquid": busy}
    strategy = market.strategy(base_config(execution=FAST), venues)
    assert strategy.open_positions(market.clock.now()).ok
    position = only_position(strategy)
    assert position.status is PositionStatus.FAILED
    assert (market.held("lighter"), market.held("hyperliquid")) == (D(0), D(0))
    short = next(o for o in market.journal() if o.venue == "hyperliquid")
    assert short.status == OrderStatus.CANCELLED.value  # abandoned: can never be sent later
    assert market.venue_orders("hyperliquid") == 0

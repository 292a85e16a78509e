"""Opening on paper venues: best pairs first, held pairs skipped, risk limits refuse with the
reason recorded, and the transfers phase asks for margin where it is missing."""

from __future__ import annotations

from core.enums import PositionStatus
from strategies.implementations.funding_arbitrage.decisions import OpenRefused, RefusalRule
from strategies.implementations.funding_arbitrage.models import TransferNeed, TransferNotStarted

from .conftest import D, Market, base_config

HOURS = 3


def two_symbols(market: Market, hyperliquid_deposit: int = 10_000) -> None:
    # ETH earns 4e-5 an hour (35 % APR), SOL 8e-5 (70 %): SOL ranks first.
    market.ticks("lighter", "ETH", [3000] * HOURS, ["0.00001"] * HOURS)
    market.ticks("hyperliquid", "ETH", [3000] * HOURS, ["0.00005"] * HOURS)
    market.ticks("lighter", "SOL", [150] * HOURS, ["0.00001"] * HOURS)
    market.ticks("hyperliquid", "SOL", [150] * HOURS, ["0.00009"] * HOURS)
    market.venue("lighter")
    market.venue("hyperliquid", deposit=hyperliquid_deposit)
    market.collect()


def refusals(market: Market) -> list[str]:
    return [e.payload["reason"] for e in market.events("open.refused")]


def test_the_best_pair_opens_first_and_exposure_limit_refuses_the_next(market: Market):
    two_symbols(market)
    risk = {**base_config()["risk"], "max_total_exposure_usd": "5000"}
    strategy = market.strategy(base_config(symbols=["ETH", "SOL"], risk=risk))
    result = strategy.open_positions(market.clock.now())
    assert result.ok, result.error
    opened, refused = result.actions
    assert opened.status is PositionStatus.OPEN
    [position] = strategy.position_manager.find("arb")
    assert position.symbol == "SOL" and position.long_qty == D(20)  # 3000 USD / 150
    assert isinstance(refused, OpenRefused) and refused.symbol == "ETH"
    assert refused.rule is RefusalRule.MAX_EXPOSURE
    expected = "risk.max_total_exposure_usd: 3000.00 USD held + 3000.00 USD new exceeds 5000"
    assert refused.detail == expected
    assert refusals(market) == [expected]
    assert market.venue_orders("lighter") == market.venue_orders("hyperliquid") == 1


def test_max_positions_stops_opening(market: Market):
    two_symbols(market)
    risk = {**base_config()["risk"], "max_positions": 1}
    strategy = market.strategy(base_config(symbols=["ETH", "SOL"], risk=risk))
    assert strategy.open_positions(market.clock.now()).ok
    assert refusals(market) == ["risk.max_positions: 1 positions already active (max 1)"]
    assert [p.symbol for p in strategy.position_manager.find("arb")] == ["SOL"]


def test_a_held_pair_is_not_opened_again(market: Market):
    two_symbols(market)
    strategy = market.strategy(base_config(symbols=["SOL"]))
    assert strategy.open_positions(market.clock.now()).ok
    market.advance_to(1)
    market.collect()
    again = strategy.open_positions(market.clock.now())
    assert again.ok and again.actions == ()
    assert len(strategy.position_manager.find("arb")) == 1
    assert market.venue_orders("hyperliquid") == 1


def test_missing_margin_refuses_the_open_and_asks_for_a_transfer_once(market: Market):
    two_symbols(market, hyperliquid_deposit=900)
    venues = [
        {"name": "lighter", "min_free_margin_usd": "1000", "target_free_margin_usd": "4000"},
        {"name": "hyperliquid", "min_free_margin_usd": "1000", "target_free_margin_usd": "2000"},
    ]
    strategy = market.strategy(base_config(venues=venues))
    assert strategy.open_positions(market.clock.now()).ok
    [reason] = refusals(market)
    assert reason.startswith("insufficient free margin on hyperliquid: the leg needs 1001.35 USD")
    result = strategy.process_transfers(market.clock.now())
    assert result.ok, result.error
    need = TransferNeed(
        "lighter",
        "hyperliquid",
        D("1100.00"),
        "hyperliquid has 900.00 USD free margin, below its minimum",
    )
    # Nothing can move (as in live mode): the need is reported as not started, each tick.
    held = TransferNotStarted(
        "lighter->hyperliquid",
        "fund transfers are unavailable: these tests move no money between venues",
    )
    assert result.actions == (held, need)
    assert strategy.process_transfers(market.clock.now()).actions == (held, need)
    [requested] = market.events("transfer.requested")  # announced once, not every tick
    assert market.events("transfer.refused") == []
    assert requested.payload["amount_usd"] == "1100.00"
    market.venues["hyperliquid"].credit_deposit("top-up", "USDC", D(2000), "arbitrum")
    assert strategy.process_transfers(market.clock.now()).actions == ()
    assert [e.payload["key"] for e in market.events("transfer.need_resolved")] == [
        "lighter->hyperliquid"
    ]

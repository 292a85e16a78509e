"""The in-memory venue on its own: the port, funding from real-history series, no look-ahead,
refused transfers, and a core that needs no database or network code at all."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.clock import ManualClock
from core.enums import OrderSide, OrderStatus, OrderType
from core.settings import PROJECT_ROOT
from exchanges.base import (
    Capability,
    CapabilityNotSupportedError,
    ExchangeClient,
    FundingHistory,
    OrderRejectedError,
    OrderRequest,
)
from exchanges.memory import InMemoryVenue, InMemoryVenueState
from exchanges.simulation.config import PaperVenueConfig
from exchanges.simulation.history_market import HistoryMarket, MarkPoint, SettledRate
from exchanges.simulation.market import MarketSource, Tick
from exchanges.simulation.series import SeriesMarket
from tests.support.import_graph import imports_under, matches

D = Decimal
T0 = datetime(2026, 3, 2, tzinfo=UTC)  # Monday 00:00 UTC
NO_SLIP = {"slippage_bps": D(0), "impact_bps_per_million": D(0)}
IO_PACKAGES = ("sqlalchemy", "psycopg", "db", "ccxt", "redis", "celery", "exchanges.paper")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def buy(cid: str, qty: str, symbol: str = "ETH") -> OrderRequest:
    return OrderRequest(cid, symbol, OrderSide.BUY, OrderType.MARKET, D(qty))


def venue_on(market: MarketSource, clock: ManualClock, account: str = "main", **config):
    state = InMemoryVenueState(market.venue, market)
    client = InMemoryVenue(state, clock=clock, account=account, config=PaperVenueConfig(**config))
    client.credit_deposit(f"seed-{account}", "USDC", D(10_000), "arbitrum")
    return client


def history_market() -> HistoryMarket:
    """Binance-like ETH: marks every hour, settlements every 8 hours, 16:00 missing."""
    marks = [MarkPoint("ETH", at(h), D(3_000) + 10 * h) for h in range(30)]
    settled = [
        SettledRate("ETH", at(0), D("0.0001"), D(8)),
        SettledRate("ETH", at(8), D("0.0003"), D(8)),
        SettledRate("ETH", at(24), D("-0.0002"), D(8)),
    ]
    return HistoryMarket.from_points("aster", marks, settled)


@pytest.mark.parametrize("package", ["exchanges/simulation", "exchanges/memory"])
def test_the_core_and_the_in_memory_venue_import_no_database_or_network_code(package):
    root = PROJECT_ROOT / package
    found = [
        f"{path}:{line}: {name}"
        for path, line, name in imports_under(root, package.replace("/", "."))
        if any(matches(name, banned) for banned in IO_PACKAGES)
    ]
    assert found == []


def test_importing_the_in_memory_venue_loads_no_database_driver():
    code = (
        "import sys, exchanges.memory; print(sorted({'sqlalchemy', 'psycopg'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_it_is_a_venue_with_funding_history_and_refuses_transfers_clearly():
    clock = ManualClock(T0)
    venue = venue_on(history_market(), clock)
    assert isinstance(venue, ExchangeClient) and isinstance(venue, FundingHistory)
    assert Capability.WITHDRAW not in venue.capabilities()
    with pytest.raises(CapabilityNotSupportedError, match=r"aster: .*no chain or bridge.*withdraw"):
        venue.withdraw("USDC", D(10), "0xabc", "arbitrum", "w-1")
    with pytest.raises(CapabilityNotSupportedError, match="deposit_address"):
        venue.deposit_address("USDC", "arbitrum")
    with pytest.raises(OrderRejectedError, match="other terms"):
        venue.credit_deposit("seed-main", "USDC", D(5), "arbitrum")
    assert venue.balance().total == D(10_000)  # the seed deposit, once


def test_a_settled_rate_is_quoted_only_from_its_settlement_time_on():
    clock = ManualClock(at(5))
    venue = venue_on(history_market(), clock)
    [rate] = venue.funding_rates()
    assert rate.rate == D("0.0001") and rate.timestamp == at(5)  # the 00:00 settlement
    assert rate.next_funding_time == at(8)
    clock.set(at(8))
    assert venue.funding_rates()[0].rate == D("0.0003")


def test_funding_is_paid_as_the_venue_settled_it_and_a_missing_settlement_pays_nothing():
    clock = ManualClock(at(1))
    venue = venue_on(history_market(), clock, **NO_SLIP)
    venue.place_order(buy("long", "2"))
    clock.set(at(29))
    payments = venue.funding_payments(None, T0)
    # 08:00 and 24:00 (16:00 is missing from the history); each on the mark in force then.
    assert [(p.funding_time, p.amount) for p in payments] == [
        (at(8), -2 * D(3_080) * D("0.0003")),
        (at(24), 2 * D(3_240) * D("0.0002")),
    ]
    assert venue.funding_payments("ETH", at(8)) == payments[1:]
    assert venue.positions()[0].qty == 2


def test_a_position_opened_at_a_funding_time_does_not_pay_it():
    clock = ManualClock(at(7))
    venue = venue_on(history_market(), clock, **NO_SLIP)
    clock.set(at(8))
    venue.place_order(buy("at-eight", "1"))
    clock.set(at(9))
    assert venue.funding_payments(None, T0) == []


def test_scenario_funding_goes_on_after_the_last_tick_at_the_last_rate():
    ticks = [Tick("hyperliquid", "ETH", at(h), D(3_000), D("0.0001"), D(1)) for h in range(3)]
    clock = ManualClock(T0)
    venue = venue_on(SeriesMarket.from_ticks("hyperliquid", ticks), clock, **NO_SLIP)
    venue.place_order(buy("long", "1"))
    clock.set(at(6))
    payments = venue.funding_payments(None, T0)
    assert [p.funding_time.hour for p in payments] == [1, 2, 3, 4, 5, 6]
    assert {p.amount for p in payments} == {D("-0.3")}


def test_sub_accounts_share_one_venue_and_keep_separate_books():
    clock = ManualClock(at(1))
    market = history_market()
    state = InMemoryVenueState("aster", market)
    grid = InMemoryVenue(state, clock=clock, account="grid")
    arb = InMemoryVenue(state, clock=clock, account="arb")
    grid.credit_deposit("g", "USDC", D(1_000), "bsc")
    grid.place_order(buy("g-1", "0.1"))
    assert arb.get_order("ETH", "g-1") is None and arb.positions() == []
    with pytest.raises(OrderRejectedError, match="another account"):
        arb.place_order(buy("g-1", "0.1"))
    again = grid.place_order(buy("g-1", "0.1"))
    assert again.status is OrderStatus.FILLED and len(state.fills) == 1


def test_a_tape_takes_ticks_in_time_order_only():
    market = SeriesMarket.from_ticks(
        "lighter", [Tick("lighter", "BTC", at(2), D(60_000), D(0), D(1))]
    )
    with pytest.raises(ValueError, match="time order"):
        market.record([Tick("lighter", "BTC", at(1), D(60_000), D(0), D(1))])
    with pytest.raises(ValueError, match="not a whole divisor"):
        market.record([Tick("lighter", "BTC", at(3), D(60_000), D(0), D(5))])


def test_hourly_settlements_between_sparse_marks_are_quoted_and_paid_on_the_mark_in_force():
    marks = [MarkPoint("BTC", at(0), D(60_000)), MarkPoint("BTC", at(8), D(62_000))]
    jitter = timedelta(milliseconds=32)  # Hyperliquid settles a few ms after the hour
    settled = [SettledRate("BTC", at(h) + jitter, D("0.00001") * h, D(1)) for h in range(1, 11)]
    market = HistoryMarket.from_points("hyperliquid", marks, settled)
    clock = ManualClock(at(0.5))
    venue = venue_on(market, clock, **NO_SLIP)
    assert venue.funding_rates() == []  # a mark, but nothing settled yet: not a market yet
    clock.set(at(1.5))
    venue.place_order(buy("long", "0.1", "BTC"))
    assert venue.funding_rates()[0].rate == D("0.00001")  # the 01:00 settlement
    clock.set(at(3) + jitter)
    assert venue.funding_rates()[0].rate == D("0.00003")
    clock.set(at(10.5))
    paid = venue.funding_payments(None, T0)
    assert [p.funding_time for p in paid] == [at(h) + jitter for h in range(2, 11)]
    assert [p.mark_price for p in paid] == [D(60_000)] * 6 + [D(62_000)] * 3
    assert paid[0].amount == -D("0.1") * D(60_000) * D("0.00002")


def test_the_modelled_book_follows_the_tick_in_force():
    ticks = [Tick("lighter", "ETH", at(h), D(3_000 + h), D(0), D(1)) for h in range(3)]
    clock = ManualClock(at(0.5))
    venue = venue_on(SeriesMarket.from_ticks("lighter", ticks), clock, slippage_bps=D(10))
    first = venue.top_of_book("ETH")
    assert venue.top_of_book("ETH") is first  # same tick in force: the same book
    clock.set(at(1))
    moved = venue.top_of_book("ETH")
    assert (first.ask, moved.ask) == (D("3003.00"), D("3004.01"))
    assert moved.timestamp == at(1)

"""Dry-run: paper orders on a real venue's market data, read through the real ccxt client.

The venue is Hyperliquid's recorded traffic (`tests/fixtures/ccxt/hyperliquid.json`: its
markets, funding and marks, and its ETH book at 2024-12-03 08:37:01.512 UTC) replayed through
ccxt's own request building and parsing (`tests/unit/exchanges/recorded.py`); the orders,
positions and funding live in the paper venue's PostgreSQL tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import OrderSide, OrderStatus, OrderType
from db.models.paper import PaperMarketTick, PaperOrder
from exchanges.base import MalformedResponseError, OrderRequest, TransientExchangeError
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import make_ccxt_exchange
from exchanges.dry_run import LiveQuotes
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.simulation.margin import money
from tests.unit.exchanges.recorded import RecordedVenue

from .conftest import ledger_by_kind, ledger_sum

D = Decimal
BOOK_TIME = datetime(2024, 12, 3, 8, 37, 1, 512000, tzinfo=UTC)  # the recorded l2Book's time
FUNDING_CALL = {"type": "metaAndAssetCtxs"}
NO_IMPACT = PaperVenueConfig(impact_bps_per_million=D(0))


def buy(cid: str, qty: str) -> OrderRequest:
    return OrderRequest(cid, "ETH", OrderSide.BUY, OrderType.MARKET, D(qty))


def funding_reads(recorded: RecordedVenue) -> int:
    return sum(1 for _, _, body in recorded.requests if body == FUNDING_CALL)


@pytest.fixture
def dry_run(clean_db):
    """(venue, recorded traffic, clock) on Hyperliquid's recordings, seconds after the book."""

    def build(config=NO_IMPACT, overrides=None, deposit=10_000, clock=None, account="main"):
        clock = clock or ManualClock(BOOK_TIME + timedelta(seconds=4))
        recorded = RecordedVenue("hyperliquid", overrides)
        reader = CcxtExchangeClient(
            "hyperliquid", recorded.attach(make_ccxt_exchange("hyperliquid", {})), clock=clock
        )
        quotes = LiveQuotes(reader, clock, refresh_seconds=5, max_age_seconds=60)
        venue = PaperExchange(
            "hyperliquid",
            engine=clean_db,
            clock=clock,
            account=account,
            config=config,
            quotes=quotes,
        )
        venue.credit_deposit(f"seed-{account}", "USDC", D(deposit), "arbitrum")
        return venue, recorded, clock

    return build


def test_market_orders_fill_at_the_real_book_and_positions_are_marked_at_the_real_mark(
    dry_run, clean_db
):
    venue, _, _ = dry_run()
    order = venue.place_order(buy("dry-1", "0.5"))
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == D("3850.6")  # the recorded best ask, not a modelled one
    assert order.fee == D("0.5") * D("3850.6") * D("0.00045")  # the paper venue's taker fee
    [position] = venue.positions()
    assert position.mark_price == D("3850.5")  # Hyperliquid's markPx
    assert position.unrealized_pnl == D("0.5") * (D("3850.5") - D("3850.6"))
    sell = venue.place_order(
        OrderRequest("dry-2", "ETH", OrderSide.SELL, OrderType.MARKET, D("0.5"))
    )
    assert sell.avg_fill_price == D("3850.3")  # the best bid
    assert ledger_by_kind(clean_db, "hyperliquid")["realized_pnl"] == D("0.5") * D("-0.3")
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger


def test_size_impact_moves_the_real_touch_onto_the_real_tick(dry_run):
    venue, _, _ = dry_run(PaperVenueConfig(impact_bps_per_million=D(500)), deposit=200_000)
    order = venue.place_order(buy("big", "100"))
    # 385,060 USD at the ask: 500 bp per million -> 19.253 bp above 3850.6, up to the 0.1 tick.
    moved = D("3850.6") * (1 + D(500) * D(100) * D("3850.6") / D(1_000_000) / D(10_000))
    assert order.avg_fill_price == (moved / D("0.1")).to_integral_value(
        rounding="ROUND_CEILING"
    ) * D("0.1")


def test_market_data_comes_from_the_venue_with_its_own_sizes(dry_run):
    venue, _, _ = dry_run()
    rates = {r.symbol: r for r in venue.funding_rates()}
    assert rates["ETH"].rate == D("0.0000184") and rates["ETH"].interval_hours == 1
    assert rates["BTC"].mark_price == D("97064")
    book = venue.top_of_book("ETH")
    assert (book.bid, book.ask, book.timestamp) == (D("3850.3"), D("3850.6"), BOOK_TIME)
    eth = {i.symbol: i for i in venue.instruments()}["ETH"]
    assert (eth.qty_step, eth.tick_size, eth.max_leverage) == (D("0.0001"), D("0.1"), 25)
    assert eth.taker_fee == D("0.00045")  # fees stay the paper venue's terms


def test_reads_are_shared_within_the_call_window_and_observations_go_on_the_tape(dry_run, clean_db):
    venue, recorded, clock = dry_run()
    venue.place_order(buy("a", "0.1"))
    reads = funding_reads(recorded)  # ccxt loads Hyperliquid's markets from this call too
    venue.positions()
    venue.balance()
    venue.funding_rates(["ETH"])
    assert funding_reads(recorded) == reads  # the order's read served every later call
    clock.advance(timedelta(seconds=6))
    venue.positions()
    assert funding_reads(recorded) == reads + 1  # the window passed: ETH (in play) is read
    with Session(clean_db) as session:
        taped = session.scalars(
            select(PaperMarketTick.ts).where(PaperMarketTick.symbol == "ETH")
        ).all()
    assert taped == [BOOK_TIME + timedelta(seconds=4), BOOK_TIME + timedelta(seconds=10)]


def test_a_stale_book_prices_nothing(dry_run, clean_db):
    venue, _, clock = dry_run()
    clock.advance(timedelta(seconds=90))  # the venue still answers with its 08:37:01 book
    with pytest.raises(TransientExchangeError, match=r"ETH order book is 9\d s old"):
        venue.place_order(buy("late", "0.1"))
    assert venue.get_order("ETH", "late") is None
    with Session(clean_db) as session:
        assert session.scalar(select(func.count()).select_from(PaperOrder)) == 0


def test_a_venue_that_cannot_be_read_is_a_typed_error_never_a_fill(dry_run):
    down = [{"request": {"method": "POST", "path": "/info", "json": FUNDING_CALL}}]
    down[0]["raise"] = "ExchangeNotAvailable"
    venue, _, _ = dry_run(overrides=down)
    with pytest.raises(TransientExchangeError, match="dry-run cannot read funding rates"):
        venue.place_order(buy("blind", "0.1"))
    assert venue.get_order("ETH", "blind") is None


def test_funding_is_settled_on_the_rate_and_mark_observed_before_it(dry_run, clean_db):
    venue, _, clock = dry_run()
    venue.place_order(buy("held", "2"))
    clock.set(datetime(2024, 12, 3, 10, 0, 30, tzinfo=UTC))
    venue.positions()  # observes again, which advances the venue through 09:00 and 10:00
    paid = venue.funding_payments(None, BOOK_TIME)
    assert [p.funding_time.hour for p in paid] == [9, 10]
    assert {p.amount for p in paid} == {money(-2 * D("3850.5") * D("0.0000184"))}
    assert ledger_by_kind(clean_db, "hyperliquid")["funding"] == 2 * paid[0].amount


def test_a_new_process_observes_the_symbols_other_processes_hold(dry_run, clean_db):
    trader, _, clock = dry_run(account="arb")
    trader.place_order(buy("held", "1"))
    restarted, recorded, _ = dry_run(clock=clock)  # its own reads, the same venue tables
    clock.advance(timedelta(seconds=1))
    restarted.balance()  # advances the venue: ETH is in play, so it is watched from now on
    assert funding_reads(recorded) == 0  # it had nothing to price yet
    clock.advance(timedelta(seconds=6))
    restarted.balance()
    with Session(clean_db) as session:
        latest = session.scalar(select(func.max(PaperMarketTick.ts)))
    assert latest == clock.now()


def test_an_answer_that_cannot_be_trusted_stands_as_the_adapter_types_it(dry_run):
    empty = {"coin": "ETH", "time": 1733215021512, "levels": [[], []]}
    book = [{"request": {"method": "POST", "path": "/info", "json": {"type": "l2Book"}}}]
    book[0]["response"] = empty
    venue, _, _ = dry_run(overrides=book)
    with pytest.raises(MalformedResponseError, match="order book of ETH has an empty side"):
        venue.place_order(buy("no-book", "0.1"))
    assert venue.get_order("ETH", "no-book") is None

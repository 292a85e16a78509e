"""Dry-run: paper orders on a real venue's market data, read through the real ccxt client.

The venue is GRVT's recorded traffic (`tests/venues/harness.py` on
`tests/fixtures/venue-recordings/ccxt/`): its last settled BTC funding (0.01 % per 8 h, no
mark) and its BTC book (88,051.6 / 88,051.7, stamped when read), answered to ccxt's own
request building and parsing; the orders, positions and funding live in the paper venue's
PostgreSQL tables. GRVT's instrument list is refused through ccxt, so sizes come from the
paper venue's table; Paradex's recorded book, which carries its own time, shows a stale one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import ccxt
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import OrderSide, OrderStatus, OrderType
from core.market import FundingKind
from db.models.paper import PaperMarketTick, PaperOrder
from exchanges.base import MalformedResponseError, OrderRequest, TransientExchangeError
from exchanges.dry_run import LiveQuotes
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.simulation.margin import money
from tests.venues.harness import ReplayVenue

from .conftest import ledger_by_kind, ledger_sum

D = Decimal
NOW = datetime(2026, 1, 12, 17, 0, tzinfo=UTC)  # GRVT's recordings; its last settlement: 16:00
BID, ASK = D("88051.6"), D("88051.7")
MID = (BID + ASK) / 2  # GRVT quotes funding without a mark: the book's mid is observed
NO_IMPACT = PaperVenueConfig(impact_bps_per_million=D(0))
FUNDING_PATH = r"/full/v1/funding"


def buy(cid: str, qty: str, side: OrderSide = OrderSide.BUY) -> OrderRequest:
    return OrderRequest(cid, "BTC", side, OrderType.MARKET, D(qty))


@pytest.fixture
def dry_run(clean_db):
    """Build (venue, recorded traffic, clock): a dry-run paper venue on GRVT's recordings."""
    replays: list[ReplayVenue] = []

    def build(
        config=NO_IMPACT, deposit=10_000, clock=None, account="main", book=None, funding=None
    ):
        clock = clock or ManualClock(NOW)
        recorded = ReplayVenue("grvt")
        recorded.serve("fetchFundingRateHistory", times=None, patch=funding)
        recorded.serve("fetchOrderBook", times=None, patch=book)
        replays.append(recorded)
        quotes = LiveQuotes(recorded.client(clock), clock, refresh_seconds=5, max_age_seconds=60)
        venue = PaperExchange(
            "grvt", engine=clean_db, clock=clock, account=account, config=config, quotes=quotes
        )
        venue.credit_deposit(f"seed-{account}", "USDC", D(deposit), "zksync")
        return venue, recorded, clock

    yield build
    assert [m for r in replays for m in r.unexpected] == []  # nothing unrecorded was asked


def funding_reads(recorded: ReplayVenue) -> int:
    return len(recorded.sent_to(FUNDING_PATH))


def test_market_orders_fill_at_the_real_book_and_positions_are_marked_at_the_observed_mark(
    dry_run, clean_db
):
    venue, _, _ = dry_run()
    order = venue.place_order(buy("dry-1", "0.5"))
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == ASK  # the recorded best ask, not a modelled one
    assert order.fee == D("0.5") * ASK * D("0.00045")  # the paper venue's taker fee for GRVT
    [position] = venue.positions()
    assert position.mark_price == MID
    assert position.unrealized_pnl == D("0.5") * (MID - ASK)
    sell = venue.place_order(buy("dry-2", "0.5", OrderSide.SELL))
    assert sell.avg_fill_price == BID
    assert ledger_by_kind(clean_db, "grvt")["realized_pnl"] == D("0.5") * (BID - ASK)
    collateral, ledger = ledger_sum(clean_db, "grvt")
    assert collateral == ledger


def test_size_impact_moves_the_real_touch_onto_the_tick(dry_run):
    venue, _, _ = dry_run(PaperVenueConfig(impact_bps_per_million=D(500)), deposit=2_000_000)
    order = venue.place_order(buy("big", "40"))
    # 3.52 M USD at the ask: 500 bp per million -> 176 bp above it, up to the 0.1 tick.
    moved = ASK * (1 + D(500) * D(40) * ASK / D(1_000_000) / D(10_000))
    assert order.avg_fill_price == (moved / D("0.1")).to_integral_value(ROUND_CEILING) * D("0.1")


def test_market_data_comes_from_the_venue(dry_run):
    venue, _, _ = dry_run()
    [rate] = venue.funding_rates(["BTC"])
    assert (rate.rate, rate.interval_hours, rate.kind) == (D("0.0001"), 8, FundingKind.PREDICTED)
    assert rate.timestamp == NOW - timedelta(hours=1)  # the venue's, not ours
    book = venue.top_of_book("BTC")
    assert (book.bid, book.ask, book.timestamp) == (BID, ASK, NOW)
    # GRVT's instrument list is refused through ccxt: the paper table's sizes, paper fees.
    btc = {i.symbol: i for i in venue.instruments()}["BTC"]
    assert (btc.qty_step, btc.tick_size, btc.taker_fee) == (D("0.001"), D("0.1"), D("0.00045"))


def test_reads_are_shared_within_the_call_window_and_observations_go_on_the_tape(dry_run, clean_db):
    venue, recorded, clock = dry_run()
    venue.place_order(buy("a", "0.1"))
    venue.positions()
    venue.balance()
    venue.funding_rates(["BTC"])
    assert funding_reads(recorded) == 1  # the order's read served every later call
    clock.advance(timedelta(seconds=6))
    venue.positions()
    assert funding_reads(recorded) == 2  # the window passed: BTC (in play) is read again
    with Session(clean_db) as session:
        taped = session.scalars(select(PaperMarketTick.ts).order_by(PaperMarketTick.ts)).all()
    assert taped == [NOW, NOW + timedelta(seconds=6)]


def test_a_stale_book_prices_nothing():
    paradex = ReplayVenue("paradex")
    paradex.serve("fetchOrderBook", times=None)
    clock = ManualClock(datetime(2024, 6, 14, 15, 13, 30, tzinfo=UTC))  # the book: 15:13:05.388
    quotes = LiveQuotes(paradex.client(clock), clock, refresh_seconds=5, max_age_seconds=60)
    assert quotes.book("BTC").ask == D("67643.2")
    clock.advance(timedelta(seconds=40))
    with pytest.raises(TransientExchangeError, match=r"BTC order book is 65 s old"):
        quotes.book("BTC")  # re-read, and still the venue's 15:13:05 book


def test_a_venue_that_cannot_be_read_is_a_typed_error_never_a_fill(dry_run, clean_db):
    venue, recorded, _ = dry_run()
    recorded.routes.clear()
    recorded.fail("fetchFundingRateHistory", ccxt.ExchangeNotAvailable("down"), times=None)
    with pytest.raises(TransientExchangeError, match="dry-run cannot read funding rates"):
        venue.place_order(buy("blind", "0.1"))
    assert venue.get_order("BTC", "blind") is None
    with Session(clean_db) as session:
        assert session.scalar(select(func.count()).select_from(PaperOrder)) == 0


def test_an_answer_that_cannot_be_trusted_stands_as_the_adapter_types_it(dry_run):
    def one_sided(answer):
        answer["result"]["asks"] = []

    venue, _, _ = dry_run(book=one_sided)
    with pytest.raises(MalformedResponseError, match="BTC"):
        venue.place_order(buy("no-book", "0.1"))
    assert venue.get_order("BTC", "no-book") is None


def hourly(answer):
    """GRVT's recorded settlements as if an hour apart (16:00 and 15:00): a 1 h market."""
    last, before = answer["result"]
    before["funding_time"] = str(int(last["funding_time"]) - 3600 * 10**9)
    for settlement in (last, before):
        settlement["funding_interval_hours"] = 1


def test_funding_is_settled_on_the_rate_and_mark_observed_before_it(dry_run, clean_db):
    # Within the hour the adapter keeps GRVT's markets (the recordings hold no reload).
    venue, _, clock = dry_run(clock=ManualClock(NOW + timedelta(minutes=20)), funding=hourly)
    assert venue.funding_rates(["BTC"])[0].interval_hours == 1
    venue.place_order(buy("held", "0.2"))
    clock.set(NOW + timedelta(minutes=61))
    venue.positions()  # observes again, which advances the venue through 18:00
    [paid] = venue.funding_payments(None, NOW)
    assert paid.funding_time == NOW + timedelta(hours=1)
    assert (paid.rate, paid.mark_price, paid.position_qty) == (D("0.0001"), MID, D("0.2"))
    assert paid.amount == money(-D("0.2") * MID * D("0.0001"))
    assert ledger_by_kind(clean_db, "grvt")["funding"] == paid.amount


def test_a_new_process_observes_the_symbols_other_processes_hold(dry_run, clean_db):
    trader, _, clock = dry_run(account="arb")
    trader.place_order(buy("held", "0.1"))
    restarted, recorded, _ = dry_run(clock=clock)  # its own reads, the same venue tables
    clock.advance(timedelta(seconds=1))
    restarted.balance()  # advances the venue: BTC is in play, so it is watched from now on
    assert funding_reads(recorded) == 0  # it had nothing to price yet
    clock.advance(timedelta(seconds=6))
    restarted.balance()
    assert funding_reads(recorded) == 1
    with Session(clean_db) as session:
        latest = session.scalar(select(func.max(PaperMarketTick.ts)))
    assert latest == clock.now()

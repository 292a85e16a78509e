"""Orders on the paper venue: idempotency, fills, fees, margin, limit orders, sub-accounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import OrderSide, OrderStatus, OrderType
from db.models.paper import PaperFill, PaperOrder
from exchanges.base import ExchangeClient, OrderRejectedError, OrderRequest, TransientExchangeError

from .conftest import flat_ticks, ledger_by_kind, ledger_sum

D = Decimal
NO_SLIP = {"slippage_bps": D(0), "impact_bps_per_million": D(0)}


def market(cid, side, qty, symbol="BTC", reduce_only=False):
    return OrderRequest(cid, symbol, side, OrderType.MARKET, D(qty), reduce_only=reduce_only)


def limit(cid, side, qty, price, symbol="BTC", post_only=False):
    return OrderRequest(cid, symbol, side, OrderType.LIMIT, D(qty), D(price), post_only=post_only)


def count(engine, model, **where):
    with Session(engine) as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query)


def test_paper_exchange_satisfies_the_port(paper, store_market):
    assert isinstance(paper(deposit=None), ExchangeClient)


def test_same_client_order_id_twice_returns_the_same_order(paper, store_market, clean_db, clock):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000] * 3))
    venue = paper(**NO_SLIP)
    first = venue.place_order(market("c-1", OrderSide.BUY, "0.1"))
    clock.advance(timedelta(minutes=5))
    second = venue.place_order(market("c-1", OrderSide.BUY, "0.1"))
    assert second == first
    assert count(clean_db, PaperOrder, client_order_id="c-1") == 1
    assert count(clean_db, PaperFill) == 1
    assert venue.positions()[0].qty == D("0.1")
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger == D(10_000) - D("0.1") * 60_000 * D("0.00045")


def test_market_order_fills_at_mark_plus_slippage_and_pays_taker_fee(paper, store_market, clean_db):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    venue = paper(slippage_bps=D(1), impact_bps_per_million=D(5))
    order = venue.place_order(market("c-1", OrderSide.BUY, "0.1"))
    # 1 bp + 5 bp * 6,000 / 1,000,000 = 1.03 bp above 60,000, rounded up to the 0.1 tick.
    assert order.avg_fill_price == D("60006.2")
    assert order.status is OrderStatus.FILLED
    assert order.fee == D("0.1") * D("60006.2") * D("0.00045")
    sell = venue.place_order(market("c-2", OrderSide.SELL, "0.1"))
    assert sell.avg_fill_price == D("59993.8")
    kinds = ledger_by_kind(clean_db, "hyperliquid")
    assert kinds["realized_pnl"] == D("0.1") * (D("59993.8") - D("60006.2"))
    assert kinds["trading_fee"] == -(order.fee + sell.fee)
    assert venue.positions() == []
    assert (
        venue.balance().available
        == venue.balance().total
        == sum(ledger_sum(clean_db, "hyperliquid")) / 2
    )


def test_order_beyond_available_margin_is_rejected_and_nothing_is_stored(
    paper, store_market, clean_db
):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    venue = paper(deposit=1_000, leverage=D(5), **NO_SLIP)
    with pytest.raises(OrderRejectedError, match="insufficient margin"):
        venue.place_order(market("too-big", OrderSide.BUY, "0.1"))  # needs 1,200 margin
    assert venue.get_order("BTC", "too-big") is None
    assert count(clean_db, PaperOrder) == 0
    venue.place_order(market("fits", OrderSide.BUY, "0.08"))  # 960 margin + 2.16 fee
    assert venue.balance().margin_used == D(960)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (market("small", OrderSide.BUY, "0.0005"), "below the minimum"),
        (market("step", OrderSide.BUY, "0.0015"), "not a multiple of the step"),
        (limit("tick", OrderSide.BUY, "0.01", "59999.95"), "not on the tick"),
        (
            OrderRequest("po", "BTC", OrderSide.BUY, OrderType.MARKET, D(1), post_only=True),
            "post-only",
        ),
        (market("ro", OrderSide.SELL, "0.01", reduce_only=True), "does not reduce"),
    ],
)
def test_invalid_orders_are_rejected_with_the_reason(paper, store_market, request_, reason):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    with pytest.raises(OrderRejectedError, match=reason):
        paper().place_order(request_)


def test_an_order_before_any_market_data_is_a_transient_error(paper, store_market):
    with pytest.raises(TransientExchangeError, match="no market data for BTC"):
        paper().place_order(market("early", OrderSide.BUY, "0.01"))


def test_limit_order_rests_then_fills_as_maker_when_the_price_crosses(
    paper, store_market, clean_db, clock
):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000, 59_900, 59_400, 59_800]))
    venue = paper(leverage=D(4), **NO_SLIP)
    resting = venue.place_order(limit("bid", OrderSide.BUY, "0.5", "59500"))
    assert resting.status is OrderStatus.OPEN and resting.filled_qty == 0
    assert venue.balance().margin_used == D("0.5") * 59_500 / 4  # reserved while resting
    clock.advance(timedelta(hours=1))  # 59,900: not crossed yet
    assert venue.get_order("BTC", "bid").status is OrderStatus.OPEN
    clock.advance(timedelta(hours=2))  # 59,400 at 02:00 crossed 59,500
    filled = venue.get_order("BTC", "bid")
    assert filled.status is OrderStatus.FILLED
    assert filled.avg_fill_price == D(59_500)  # at the limit, not at the better mark
    assert filled.fee == D("0.5") * 59_500 * D("0.00015")  # maker fee
    [position] = venue.positions()
    assert position.qty == D("0.5") and position.entry_price == D(59_500)
    assert position.mark_price == D(59_800)
    assert position.unrealized_pnl == D("0.5") * 300
    with Session(clean_db) as session:
        fill = session.scalars(select(PaperFill)).one()
    assert fill.liquidity == "maker" and fill.filled_at == clock.now() - timedelta(hours=1)
    assert venue.open_orders() == []


def test_marketable_limit_fills_immediately_and_post_only_is_refused(paper, store_market):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    venue = paper(**NO_SLIP)
    with pytest.raises(OrderRejectedError, match="would cross"):
        venue.place_order(limit("po", OrderSide.BUY, "0.01", "60100", post_only=True))
    order = venue.place_order(limit("take", OrderSide.BUY, "0.01", "60100"))
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == D(60_000)


def test_cancel_releases_the_reserved_margin(paper, store_market, clock):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000, 59_000]))
    venue = paper(**NO_SLIP)
    venue.place_order(limit("bid", OrderSide.BUY, "0.1", "58000"))
    assert venue.balance().available == D(10_000) - D("0.1") * 58_000 / 5
    cancelled = venue.cancel_order("BTC", "bid")
    assert cancelled.status is OrderStatus.CANCELLED
    assert venue.balance().available == D(10_000)
    clock.advance(timedelta(hours=1))
    assert venue.get_order("BTC", "bid").status is OrderStatus.CANCELLED
    with pytest.raises(OrderRejectedError, match="no BTC order"):
        venue.cancel_order("BTC", "never-placed")


def test_reduce_only_limit_is_cut_to_what_is_left_of_the_position(paper, store_market, clock):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000, 60_000, 61_000]))
    venue = paper(**NO_SLIP)
    venue.place_order(market("open", OrderSide.BUY, "0.2"))
    venue.place_order(
        OrderRequest(
            "tp", "BTC", OrderSide.SELL, OrderType.LIMIT, D("0.2"), D(60_500), reduce_only=True
        )
    )
    clock.advance(timedelta(minutes=30))
    venue.place_order(market("half", OrderSide.SELL, "0.1"))
    clock.advance(timedelta(hours=2))
    take_profit = venue.get_order("BTC", "tp")
    assert take_profit.filled_qty == D("0.1") and take_profit.status is OrderStatus.CANCELLED
    assert venue.positions() == []


def test_closing_realizes_pnl_and_flipping_opens_the_rest(paper, store_market, clean_db, clock):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000, 61_000]))
    venue = paper(**NO_SLIP)
    venue.place_order(market("long", OrderSide.BUY, "0.1"))
    clock.advance(timedelta(hours=1))
    venue.place_order(market("flip", OrderSide.SELL, "0.3"))
    [position] = venue.positions()
    assert position.qty == D("-0.2") and position.entry_price == D(61_000)
    assert position.margin == D("0.2") * 61_000 / 5
    assert ledger_by_kind(clean_db, "hyperliquid")["realized_pnl"] == D(100)
    collateral, ledger = ledger_sum(clean_db, "hyperliquid")
    assert collateral == ledger


def test_sub_accounts_on_one_venue_are_separate(paper, store_market, clean_db):
    store_market(flat_ticks("hyperliquid", "BTC", [60_000]))
    grid = paper(account="grid", deposit=2_000, **NO_SLIP)
    arb = paper(account="arb", deposit=5_000, **NO_SLIP)
    grid.place_order(market("g-1", OrderSide.BUY, "0.01"))
    arb.place_order(market("a-1", OrderSide.SELL, "0.02"))
    assert [p.qty for p in grid.positions()] == [D("0.01")]
    assert [p.qty for p in arb.positions()] == [D("-0.02")]
    assert grid.get_order("BTC", "a-1") is None
    with pytest.raises(OrderRejectedError, match="another account"):
        grid.place_order(market("a-1", OrderSide.SELL, "0.02"))
    assert grid.balance().total < D(2_000) < arb.balance().total
    for account in ("grid", "arb"):
        collateral, ledger = ledger_sum(clean_db, "hyperliquid", account)
        assert collateral == ledger


def test_market_data_reads(paper, store_market, clock):
    store_market(flat_ticks("aster", "SOL", [150, 151], rates="0.0004", interval=4))
    venue = paper("aster", deposit=None, slippage_bps=D(2))
    clock.advance(timedelta(minutes=90))
    [rate] = venue.funding_rates()
    assert rate.interval_hours == 4 and rate.hourly_rate == D("0.0001")
    assert rate.next_funding_time == clock.now().replace(hour=4, minute=0)
    assert rate.mark_price == D(151)
    book = venue.top_of_book("SOL")
    assert book.bid == D("150.969") and book.ask == D("151.031")
    assert book.bid_qty == D("1655.6")  # 250,000 USD of depth at 151, on the 0.1 step
    [instrument] = venue.instruments()
    assert (instrument.symbol, instrument.taker_fee, instrument.min_qty) == (
        "SOL",
        D("0.00035"),
        D("0.1"),
    )

"""Backpack on its recorded traffic: funding, positions, orders by client id, deposits."""

from decimal import Decimal

import ccxt
import pytest
from sqlalchemy import select

from core.clock import SystemClock
from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from core.market import FundingKind
from db.models import Order
from exchanges.base import Capability, OrderRequest, UnknownOutcomeError
from strategies.components.order_executor import OrderExecutor
from strategies.components.order_journal import OrderIntent, PostgresOrderJournal
from strategies.components.order_types import venue_ids_of
from strategies.components.sessions import savepoint_scope
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {
    Capability.FUNDING_RATES,
    Capability.TRADING,
    Capability.CLIENT_ORDER_ID_LOOKUP,
    Capability.CANCEL_ORDER,
    Capability.POSITIONS,
    Capability.DEPOSIT_ADDRESS,
    Capability.TRANSFER_STATUS,
}
ORDERS_AT = "2025-09-11T20:30:00+00:00"


def client(replay, when=ORDERS_AT):
    venue = replay("backpack")
    return venue, venue.client(at(when))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, backpack = client(replay)
    assert_refused(backpack, capability, refusal_calls(backpack)[capability])


def test_the_funding_interval_is_the_markets_own_not_ccxts_hard_coded_hour(replay):
    venue, backpack = client(replay, "2025-08-11T20:00:00+00:00")
    venue.serve("fetchFundingRate")
    [rate] = backpack.funding_rates(["ETH"])
    assert (rate.rate, rate.interval_hours) == (D("0.0001"), 8)  # fundingInterval 28800000 ms
    assert rate.hourly_rate == D("0.0000125")
    assert rate.next_funding_time.isoformat() == "2025-08-12T00:00:00+00:00"
    assert rate.mark_price == D("4307.57627888")
    # The mark-price endpoint stamps nothing: the rate is observed when fetched.
    assert rate.timestamp.isoformat() == "2025-08-11T20:00:00+00:00"
    assert (rate.margin_asset, rate.kind) == ("USDC", FundingKind.PREDICTED)


def test_positions_carry_the_venues_mark_and_margin(replay):
    venue, backpack = client(replay)
    venue.serve("fetchPositions")
    [eth] = backpack.positions()
    assert (eth.symbol, eth.qty, eth.entry_price) == ("ETH", D("0.002"), D("4447.065"))
    assert (eth.mark_price, eth.unrealized_pnl) == (D("4420.23644794"), D("0.000776"))
    assert eth.liquidation_price is None  # the venue says 0: cannot be liquidated
    assert eth.margin == D("0.1778826") and eth.leverage == 50


def buy_limit(cid="pos-9-long-open", qty="0.001"):
    return OrderRequest(cid, "ETH", OrderSide.BUY, OrderType.LIMIT, D(qty), D(4000))


def with_client_id(vcid):
    """The recorded order (on the ETH spot book: the same order API) as ours on the perp."""

    def patch(orders):
        orders[0].update(clientId=vcid, symbol="ETH_USDC_PERP")

    return patch


def test_a_limit_order_goes_out_under_the_venues_integer_client_id(replay):
    venue, backpack = client(replay)
    venue.serve("fetchOpenOrders")
    venue.serve("fetchOrders")
    venue.serve("createOrder", "create swap limit order", http="POST")
    order = backpack.place_order(buy_limit())
    vcid = backpack.quirks.client_ids.derive("pos-9-long-open")
    [sent] = [s.json for s in venue.sent if s.method == "POST"]
    assert sent["clientId"] == int(vcid) and 0 < int(vcid) < 2**32
    assert (sent["symbol"], sent["side"], sent["quantity"], sent["price"]) == (
        "ETH_USDC_PERP",
        "Bid",
        "0.001",
        "4000",
    )
    assert (order.status, order.venue_order_id, order.filled_qty) == (
        OrderStatus.OPEN,
        "8284671277",
        0,
    )
    assert order.fee == 0 and order.avg_fill_price is None


def test_a_fill_without_fee_in_the_reply_is_an_unknown_outcome_not_a_zero_fee(replay):
    venue, backpack = client(replay, "2025-09-12T11:10:00+00:00")
    venue.serve("fetchOpenOrders")
    venue.serve("fetchOrders")
    venue.serve("createOrder", "order with\n client order Id", http="POST")
    venue.serve("fetchMyTrades", "Fetch my trades with limit 3", path="/wapi/v1/history/fills")
    market = OrderRequest("pos-9-ada", "ADA", OrderSide.BUY, OrderType.MARKET, D(1))
    # The reply says 1 ADA filled at 0.8921 with no fee; the recorded fills are other orders'.
    with pytest.raises(UnknownOutcomeError, match=r"fills of the order add up to 0"):
        backpack.place_order(market)


def test_an_order_whose_reply_is_lost_is_found_by_its_id_and_never_sent_twice(replay, db_session):
    venue, backpack = client(replay)
    vcid = backpack.quirks.client_ids.derive("pos-9-long-open")
    venue.serve("fetchOpenOrders")  # before sending: the venue does not know it
    venue.serve("fetchOrders")
    venue.fail("createOrder", ccxt.RequestTimeout("POST /api/v1/order timed out"), http="POST")
    venue.serve("fetchOpenOrders", patch=with_client_id(vcid), times=None)
    venue.serve("fetchOrders", times=None)
    venues = {"backpack": backpack}
    executor = OrderExecutor(
        PostgresOrderJournal(savepoint_scope(db_session), SystemClock(), venue_ids_of(venues)),
        venues,
    )
    intent = OrderIntent(
        "pos-9-long-open",
        "arb",
        "backpack",
        "ETH",
        OrderSide.BUY,
        OrderType.LIMIT,
        D("0.001"),
        "open",
        price=D(4000),
    )
    record = executor.submit(intent)
    assert (record.status, record.venue_order_id) == (OrderStatus.OPEN, "8284661092")
    stored = db_session.scalars(select(Order.venue_client_order_id)).one()
    assert stored == vcid == record.venue_client_order_id
    assert executor.submit(intent).status is OrderStatus.OPEN
    assert len([s for s in venue.sent if s.method == "POST"]) == 1


def test_a_lookup_that_finds_a_different_order_under_the_id_refuses_it(replay):
    venue, backpack = client(replay)
    vcid = backpack.quirks.client_ids.derive("pos-9-long-open")
    venue.serve("fetchOpenOrders", patch=with_client_id(vcid))
    venue.serve("fetchOrders")
    with pytest.raises(Exception, match="the ids collided"):
        backpack.place_order(buy_limit(qty="0.5"))  # the venue's order is for 0.001
    assert not [s for s in venue.sent if s.method == "POST"]


def test_cancel_by_client_id_reports_the_cancelled_order(replay):
    venue, backpack = client(replay)
    vcid = backpack.quirks.client_ids.derive("grid-3")
    venue.serve("fetchOpenOrders", patch=with_client_id(vcid))
    venue.serve("fetchOrders")
    venue.serve("cancelOrder", http="DELETE")
    venue.serve("fetchOpenOrders", patch=lambda orders: orders.clear())
    venue.serve("fetchOrders", patch=with_client_id(vcid))
    cancelled = backpack.cancel_order("ETH", "grid-3")
    assert (cancelled.status, cancelled.venue_order_id) == (OrderStatus.CANCELLED, "8284661092")
    [delete] = [s for s in venue.sent if s.method == "DELETE"]
    assert delete.json == {"orderId": "8284661092", "symbol": "ETH_USDC_PERP"}


def test_deposit_address_and_deposit_status(replay):
    venue, backpack = client(replay)
    venue.serve("fetchDepositAddress")
    assert backpack.deposit_address("USDC", "ERC20") == "0xfBe7CbfCde93c8a4204a4be6B56732Eb32690170"
    venue.serve("fetchDeposits", times=2)
    tx = "0x58edaac415398d617b34c6673fffcaf0024990d5700565030119db5cbf3765d1"
    deposit = backpack.get_deposit(tx)
    assert (deposit.state, deposit.amount, deposit.asset) == (
        MovementState.COMPLETED,
        D(120),
        "USDC",
    )
    assert backpack.get_deposit("0xother") is None


@pytest.mark.parametrize(
    ("method", "description"),
    [
        ("createOrder", "order with\n client order Id"),
        ("createOrder", "create swap limit order"),
        ("createOrder", "create swap market order"),
        ("cancelOrder", "cancel order"),
        ("fetchOpenOrders", "fetch open orders"),
        ("fetchOrders", "fetch orders"),
        ("fetchPositions", "fetch positions"),
        ("fetchFundingRate", "Fetch funding rate"),
        ("fetchDepositAddress", "fetch deposit address"),
        ("fetchDeposits", "Fetch deposits"),
    ],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("backpack", method, description) is None

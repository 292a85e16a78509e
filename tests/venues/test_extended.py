"""Extended on its recorded traffic: instruments with the venue's own fees, the book,
orders by external id (placements confirmed by finding them), positions, deposits."""

from decimal import Decimal

import ccxt
import pytest
from sqlalchemy import select

from core.clock import SystemClock
from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from db.models import Order
from exchanges.base import Capability
from strategies.components.order_executor import OrderExecutor
from strategies.components.order_journal import OrderIntent, PostgresOrderJournal
from strategies.components.order_types import venue_ids_of
from strategies.components.sessions import savepoint_scope
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {
    Capability.INSTRUMENTS,
    Capability.ORDER_BOOK,
    Capability.TRADING,
    Capability.CLIENT_ORDER_ID_LOOKUP,
    Capability.CANCEL_ORDER,
    Capability.POSITIONS,
    Capability.TRANSFER_STATUS,
}
BY_EXTERNAL_ID = r"/api/v1/user/orders/external/[^/]+"
ORDERS_AT = "2026-05-05T08:00:00+00:00"


def client(replay, when=ORDERS_AT):
    venue = replay("extended")
    return venue, venue.client(at(when))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, extended = client(replay)
    assert_refused(extended, capability, refusal_calls(extended)[capability])


def test_fees_are_the_venues_not_ccxts_placeholder(replay):
    venue, extended = client(replay)
    venue.serve("fetchTradingFee")
    [btc] = extended.instruments()
    assert extended.exchange.markets["BTC/USDC:USDC"]["taker"] == 0.002  # ccxt's placeholder
    assert (btc.taker_fee, btc.maker_fee) == (D("0.00025"), 0)
    assert (btc.qty_step, btc.min_qty, btc.tick_size, btc.max_leverage) == (
        D("0.00001"),
        D("0.0001"),
        1,
        50,
    )


def test_the_book_is_stamped_when_fetched_not_by_ccxts_clock(replay):
    venue, extended = client(replay)
    venue.serve("fetchOrderBook")
    book = extended.top_of_book("BTC")
    assert (book.bid, book.bid_qty, book.ask, book.ask_qty) == (
        D(76214),
        D("14.46084"),
        D(76215),
        D("0.11585"),
    )
    assert book.timestamp.isoformat() == "2026-05-05T08:00:00+00:00"


def test_positions(replay):
    venue, extended = client(replay, "2026-05-07T06:00:00+00:00")
    venue.serve("fetchPositions")
    [btc] = extended.positions()
    assert (btc.qty, btc.entry_price, btc.mark_price) == (
        D("0.0001"),
        D("81500"),
        D("81003.306447000009"),
    )
    assert (btc.margin, btc.leverage, btc.unrealized_pnl) == (D("0.081003"), 10, D("-0.04967"))
    assert btc.liquidation_price is None


def ours(vcid):
    def patch(answer):
        orders = answer["data"] if isinstance(answer["data"], list) else [answer["data"]]
        orders[0]["externalId"] = vcid

    return patch


def sell_intent(cid="pos-5-short-open"):
    return OrderIntent(
        cid,
        "arb",
        "extended",
        "BTC",
        OrderSide.SELL,
        OrderType.LIMIT,
        D("0.01"),
        "open",
        price=D(85777),
    )


def test_an_order_whose_reply_is_lost_is_found_by_its_id_and_never_sent_twice(replay, db_session):
    venue, extended = client(replay)
    vcid = extended.quirks.client_ids.derive("pos-5-short-open")
    venue.fail("fetchOrder", ccxt.OrderNotFound("404 external id"), path=BY_EXTERNAL_ID)
    venue.serve("fetchAccount")  # ccxt signs with the account's stark key
    venue.fail("createOrder", ccxt.RequestTimeout("POST /user/order timed out"), http="POST")
    venue.serve(
        "fetchOrder",
        "fetch order by clientOrderId",
        path=BY_EXTERNAL_ID,
        patch=ours(vcid),
        times=None,
    )
    venues = {"extended": extended}
    executor = OrderExecutor(
        PostgresOrderJournal(savepoint_scope(db_session), SystemClock(), venue_ids_of(venues)),
        venues,
    )
    record = executor.submit(sell_intent())
    # Filled: its average price and fee are the venue's own (averagePrice, payedFee).
    assert (record.status, record.filled_qty, record.avg_fill_price, record.fee_usd) == (
        OrderStatus.FILLED,
        D("0.01"),
        D(85777),
        D("0.000428885"),
    )
    assert executor.submit(sell_intent()) == record
    assert db_session.scalars(select(Order.venue_client_order_id)).one() == vcid
    [sent] = [s for s in venue.sent if s.method == "POST"]
    body = sent.json
    assert (body["id"], body["side"], body["qty"], body["price"]) == (vcid, "SELL", "0.01", "85777")
    assert "builderFee" not in body and "builderId" not in body  # ccxt's 0.01 % is off


def test_a_placement_is_confirmed_by_finding_the_order(replay):
    venue, extended = client(replay)
    vcid = extended.quirks.client_ids.derive("pos-5-short-open")
    venue.fail("fetchOrder", ccxt.OrderNotFound("404 external id"), path=BY_EXTERNAL_ID)
    venue.serve("fetchAccount")
    # Extended's reply to a new order is not recorded: whatever it says is not read.
    venue.serve("cancelOrder", "cancel order by id", path="/api/v1/user/order", http="POST")
    venue.serve("fetchOrder", "fetch order by clientOrderId", path=BY_EXTERNAL_ID, patch=ours(vcid))
    order = extended.place_order(sell_intent().request())
    assert (order.status, order.venue_order_id) == (OrderStatus.FILLED, "2051479786538188801")


def test_cancel_by_external_id(replay):
    venue, extended = client(replay)
    vcid = extended.quirks.client_ids.derive("grid-8")

    resting = {**venue.case("fetchOrder", "fetch order by id")["httpResponse"]["data"]}
    resting["externalId"] = vcid

    def partly_filled(answer):  # the recorded resting order, in the by-external-id envelope
        answer["data"] = [resting]

    venue.serve(
        "fetchOrder",
        "fetch order by clientOrderId",
        path=BY_EXTERNAL_ID,
        patch=partly_filled,
        times=2,
    )
    venue.serve("cancelOrder", "cancel order by id", path=r"/api/v1/user/order/\d+")
    result = extended.cancel_order("BTC", "grid-8")
    [delete] = [s for s in venue.sent if s.method == "DELETE"]
    assert delete.url.endswith("/api/v1/user/order/2051479786538188800")
    # What the venue says afterwards (the recording has the order before the cancel).
    assert (result.status, result.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.004"))


def test_a_deposit_is_found_by_its_hash(replay):
    venue, extended = client(replay, "2025-08-02T00:00:00+00:00")
    venue.serve("fetchDeposits")
    deposit = extended.get_deposit("0x1234")
    assert (deposit.state, deposit.amount, deposit.asset, deposit.chain) == (
        MovementState.COMPLETED,
        D(10),
        "USDC",
        "Starknet",
    )


@pytest.mark.parametrize(
    ("method", "description"),
    [
        ("createOrder", "swap limit buy"),
        ("fetchOrder", "fetch order by clientOrderId"),
        ("cancelOrder", "cancel order by id"),
        ("fetchPositions", "fetch positions with symbol"),
        ("fetchOrderBook", "fetchOrderBook with limit"),
        ("fetchTradingFee", "fetch trading fee with symbol"),
        ("fetchDeposits", "fetch deposits with limit"),
        ("fetchMarkets", "fetchMarkets"),
    ],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("extended", method, description) is None

"""The adapter's own paths on recorded traffic (Backpack and Paradex): read retries, typed
errors for writes that are never resent, one order per client id, what a venue's
capability gap says."""

from decimal import Decimal

import ccxt
import pytest

from core.enums import OrderSide, OrderStatus, OrderType
from exchanges.base import (
    CapabilityNotSupportedError,
    ExchangeClient,
    ExchangeError,
    MalformedResponseError,
    OrderRejectedError,
    OrderRequest,
    TransientExchangeError,
    UnknownOutcomeError,
)
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_parsing import translate_error
from exchanges.ccxt_venues import make_ccxt_exchange
from tests.venues.common import at

D = Decimal
ORDERS_AT = "2025-09-11T20:30:00+00:00"
BOOK_AT = "2024-06-14T15:20:00+00:00"


def test_the_adapter_satisfies_the_port(replay):
    assert isinstance(replay("paradex").client(at(BOOK_AT)), ExchangeClient)


def test_reads_retry_transient_errors_with_backoff(replay):
    venue = replay("paradex")
    venue.fail("fetchOrderBook", ccxt.RequestTimeout("GET /orderbook timed out"), times=2)
    venue.serve("fetchOrderBook")
    sleeps: list[float] = []
    book = venue.client(at(BOOK_AT), sleeps).top_of_book("BTC")
    assert (book.bid, book.ask) == (D("66810"), D("67643.2")) and sleeps == [0.25, 0.5]
    assert len(venue.sent_to(r"/v1/orderbook/BTC-USD-PERP")) == 3


def test_reads_give_up_after_a_bounded_number_of_attempts(replay):
    venue = replay("paradex")
    venue.fail("fetchOrderBook", ccxt.ExchangeNotAvailable("maintenance"), times=None)
    sleeps: list[float] = []
    with pytest.raises(TransientExchangeError, match="paradex: fetch_order_book: Exchange"):
        venue.client(at(BOOK_AT), sleeps).top_of_book("BTC")
    assert sleeps == [0.25, 0.5]


def test_a_non_transient_read_error_is_not_retried(replay):
    venue = replay("paradex")
    venue.fail("fetchOrderBook", ccxt.BadResponse("not json"))
    sleeps: list[float] = []
    with pytest.raises(MalformedResponseError, match="fetch_order_book"):
        venue.client(at(BOOK_AT), sleeps).top_of_book("BTC")
    assert sleeps == []


def test_an_answer_ccxt_cannot_read_is_a_typed_malformed_response(replay):
    venue = replay("paradex")
    venue.serve("fetchOrderBook", patch=lambda book: book.update(bids=[["x", "y", "z"]]))
    with pytest.raises(MalformedResponseError, match="paradex: fetch_order_book"):
        venue.client(at(BOOK_AT)).top_of_book("BTC")


def test_a_crossed_or_empty_book_is_malformed(replay):
    venue = replay("paradex")
    venue.serve("fetchOrderBook", patch=lambda book: book.update(asks=[]))
    paradex = venue.client(at(BOOK_AT))
    with pytest.raises(MalformedResponseError, match="empty side"):
        paradex.top_of_book("BTC")
    venue.serve("fetchOrderBook", patch=lambda book: book.update(asks=[["60000", "1"]]))
    with pytest.raises(MalformedResponseError, match="not below the best ask"):
        paradex.top_of_book("BTC")


def test_an_unknown_symbol_is_refused_by_name(replay):
    with pytest.raises(CapabilityNotSupportedError, match="no perpetual market for DOGE"):
        replay("paradex").client(at(BOOK_AT)).top_of_book("DOGE")


def backpack(replay, *, lookups: int = 1):
    venue = replay("backpack")
    venue.serve("fetchOpenOrders", times=lookups)
    venue.serve("fetchOrders", times=lookups)
    return venue, venue.client(at(ORDERS_AT))


def buy(cid="pos-7-long-open"):
    return OrderRequest(cid, "ETH", OrderSide.BUY, OrderType.LIMIT, D("0.001"), D(4000))


def posts(venue):
    return [s for s in venue.sent if s.method == "POST"]


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (ccxt.InsufficientFunds("not enough margin"), OrderRejectedError),
        (ccxt.InvalidOrder("size below minimum"), OrderRejectedError),
        (ccxt.ExchangeNotAvailable("maintenance"), TransientExchangeError),
        (ccxt.RateLimitExceeded("429"), TransientExchangeError),
        (ccxt.NetworkError("connection reset"), UnknownOutcomeError),
        (ccxt.RequestTimeout("timed out"), UnknownOutcomeError),
    ],
)
def test_order_errors_are_typed_and_never_retried(replay, failure, error):
    venue, client = backpack(replay)
    venue.fail("createOrder", failure, http="POST")
    with pytest.raises(error, match="backpack: create_order"):
        client.place_order(buy())
    assert len(posts(venue)) == 1


def test_the_same_client_order_id_twice_places_one_order(replay):
    venue, client = backpack(replay)
    venue.serve("createOrder", "create swap limit order", http="POST")
    first = client.place_order(buy())
    vcid = client.quirks.client_ids.derive("pos-7-long-open")

    def ours(orders):
        orders[0].update(clientId=vcid, symbol="ETH_USDC_PERP")

    venue.serve("fetchOpenOrders", patch=ours)
    venue.serve("fetchOrders")
    again = client.place_order(buy())
    assert again.venue_order_id == "8284661092" and again.status is OrderStatus.OPEN
    assert first.venue_order_id == "8284671277" and len(posts(venue)) == 1


def test_a_duplicate_id_answer_returns_the_order_the_venue_has(replay):
    venue, client = backpack(replay, lookups=1)
    venue.fail("createOrder", ccxt.DuplicateOrderId("duplicate clientId"), http="POST")
    vcid = client.quirks.client_ids.derive("pos-7-long-open")
    venue.serve(
        "fetchOpenOrders", patch=lambda o: o[0].update(clientId=vcid, symbol="ETH_USDC_PERP")
    )
    venue.serve("fetchOrders")
    found = client.place_order(buy())
    assert (found.status, found.venue_order_id) == (OrderStatus.OPEN, "8284661092")


def test_a_duplicate_id_the_venue_cannot_show_is_a_rejection(replay):
    venue, client = backpack(replay, lookups=2)
    venue.fail("createOrder", ccxt.DuplicateOrderId("duplicate clientId"), http="POST")
    with pytest.raises(OrderRejectedError, match="duplicate id but not found"):
        client.place_order(buy())


def test_cancelling_an_order_the_venue_does_not_have_is_a_rejection(replay):
    _, client = backpack(replay)
    with pytest.raises(OrderRejectedError, match="no ETH order never-sent"):
        client.cancel_order("ETH", "never-sent")


def test_open_orders_without_our_ids_are_refused_clearly(replay):
    with pytest.raises(CapabilityNotSupportedError, match="orders table"):
        replay("backpack").client(at(ORDERS_AT)).open_orders()


def test_withdrawals_cannot_be_looked_up_by_idempotency_key(replay):
    with pytest.raises(CapabilityNotSupportedError, match="idempotency key"):
        replay("backpack").client(at(ORDERS_AT)).get_withdrawal("w-1")


def test_the_adapter_does_not_show_credentials():
    adapter = CcxtExchangeClient(
        "hyperliquid", make_ccxt_exchange("hyperliquid", {"privateKey": "0xsecret"})
    )
    assert "secret" not in repr(adapter)


@pytest.mark.parametrize(
    ("exc", "side_effect", "expected"),
    [
        (ccxt.RequestTimeout("t"), True, UnknownOutcomeError),
        (ccxt.RequestTimeout("t"), False, TransientExchangeError),
        (ccxt.DDoSProtection("d"), True, TransientExchangeError),
        (ccxt.InvalidNonce("n"), True, TransientExchangeError),
        (ccxt.InsufficientFunds("f"), True, OrderRejectedError),
        (ccxt.AuthenticationError("a"), False, ExchangeError),
        (ccxt.NotSupported("n"), False, CapabilityNotSupportedError),
        (ccxt.BadResponse("b"), True, MalformedResponseError),
        (ccxt.CancelPending("c"), False, TransientExchangeError),
    ],
)
def test_ccxt_errors_map_to_what_the_caller_may_do(exc, side_effect, expected):
    error = translate_error("grvt", "op", exc, side_effect=side_effect)
    assert type(error) is expected and str(error).startswith("grvt: op: ")

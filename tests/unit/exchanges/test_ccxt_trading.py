"""The ccxt adapter's order and account paths, and how ccxt errors become the port's.

Market data is replayed from recorded responses; the account side of the venue (which needs
signed sessions) is a fake that returns ccxt's unified structures, as ccxt's parsers do.
"""

from decimal import Decimal

import ccxt
import pytest

from core.enums import MovementState, OrderSide, OrderStatus, OrderType
from exchanges.base import (
    CapabilityNotSupportedError,
    ExchangeError,
    MalformedResponseError,
    OrderRejectedError,
    OrderRequest,
    TransientExchangeError,
    UnknownOutcomeError,
)
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_parsing import translate_error
from tests.support.clocks import RecordingClock

from .recorded import RecordedVenue

D = Decimal


class AccountSide:
    """In-memory orders/positions/balances in ccxt's unified shapes."""

    def setup_account(self) -> None:
        self.orders: dict[str, dict] = {}
        self.created: list[tuple] = []
        self.refuse: Exception | None = None  # raised before anything executes
        self.lose_answer: Exception | None = None  # raised after the order executed

    def create_order(self, symbol, type, side, amount, price=None, params=None):
        params = params or {}
        self.created.append((symbol, type, side, amount, price, dict(params)))
        if self.refuse is not None:
            raise self.refuse
        cid = params["clientOrderId"]
        market = type == "market"
        order = {
            "id": str(9000 + len(self.orders)),
            "clientOrderId": cid,
            "symbol": symbol,
            "type": type,
            "side": side,
            "amount": amount,
            "price": price,
            "status": "closed" if market else "open",
            "filled": amount if market else 0.0,
            "average": 97060.5 if market else None,
            "fee": {"cost": 0.5823, "currency": "USDC"} if market else None,
            "reduceOnly": params.get("reduceOnly", False),
            "timestamp": 1733215021000,
        }
        self.orders[cid] = order
        if self.lose_answer is not None:
            raise self.lose_answer
        return dict(order)

    def cancel_order(self, id, symbol=None, params=None):
        for order in self.orders.values():
            if order["id"] == id:
                order["status"] = "canceled"
                return dict(order)
        raise ccxt.OrderNotFound(id)

    def fetch_positions(self, symbols=None, params=None):
        return [
            {
                "symbol": "ETH/USD:USDC",
                "contracts": 1.5,
                "contractSize": 1,
                "side": "short",
                "entryPrice": 3851.2,
                "markPrice": 3849.12,
                "unrealizedPnl": 3.12,
                "liquidationPrice": 4990.5,
                "initialMargin": 577.37,
                "leverage": 10,
            },
            {"symbol": "BTC/USD:USDC", "contracts": 0, "side": None},
        ]

    def fetch_balance(self, params=None):
        return {"total": {"USDC": 10012.5}, "free": {"USDC": 9435.13}, "used": {"USDC": 577.37}}

    def fetch_deposits(self, code=None, since=None, limit=None, params=None):
        return [
            {
                "id": "d-1",
                "txid": "0xdeposit",
                "currency": "USDC",
                "amount": 250.0,
                "status": "ok",
                "network": "starknet",
                "address": "0x49dd",
                "fee": None,
            }
        ]


class TradingParadex(AccountSide, ccxt.paradex):
    lagging_lookups = 0  # the venue's order index lags: it misses this many lookups

    def fetch_order(self, id, symbol=None, params=None):
        cid = (params or {}).get("clientOrderId")
        if self.lagging_lookups:
            self.lagging_lookups -= 1
            raise ccxt.OrderNotFound(f"paradex {cid}")
        if cid not in self.orders:
            raise ccxt.OrderNotFound(f"paradex {cid}")
        return dict(self.orders[cid])


class TradingAster(AccountSide, ccxt.aster):
    """Aster is not known to look orders up by client id: the adapter scans instead."""

    def fetch_open_orders(self, symbol=None, since=None, limit=None, params=None):
        return [dict(o) for o in self.orders.values() if o["status"] == "open"]

    def fetch_closed_orders(self, symbol=None, since=None, limit=None, params=None):
        return [dict(o) for o in self.orders.values() if o["status"] != "open"]


def venue(cls=TradingParadex, name="paradex"):
    exchange = RecordedVenue(name).attach(cls())
    exchange.setup_account()
    return CcxtExchangeClient(name, exchange, clock=RecordingClock()), exchange


def buy(cid="pos-7-long-open", qty="0.02", order_type=OrderType.MARKET, price=None, **flags):
    return OrderRequest(cid, "BTC", OrderSide.BUY, order_type, D(qty), price, **flags)


def test_market_order_is_sent_with_our_client_id_and_read_back():
    client, exchange = venue()
    order = client.place_order(buy(reduce_only=True))
    [(symbol, kind, side, amount, price, params)] = exchange.created
    assert (symbol, kind, side, amount, price) == ("BTC/USD:USDC", "market", "buy", 0.02, None)
    assert params == {"clientOrderId": "pos-7-long-open", "reduceOnly": True}
    assert order.status is OrderStatus.FILLED and order.filled_qty == D("0.02")
    assert order.avg_fill_price == D("97060.5") and order.fee == D("0.5823")
    assert (order.symbol, order.venue_order_id) == ("BTC", "9000")


def test_the_same_client_order_id_twice_places_one_order():
    client, exchange = venue()
    first = client.place_order(buy())
    assert client.place_order(buy()) == first
    assert len(exchange.created) == 1


def test_a_timeout_after_sending_is_an_unknown_outcome_that_lookup_resolves():
    client, exchange = venue()
    exchange.lose_answer = ccxt.RequestTimeout("paradex POST /orders timed out (10000 ms)")
    with pytest.raises(UnknownOutcomeError, match="create_order: RequestTimeout"):
        client.place_order(buy())
    exchange.lose_answer = None
    found = client.get_order("BTC", "pos-7-long-open")
    assert found is not None and found.status is OrderStatus.FILLED
    assert client.place_order(buy()) == found and len(exchange.created) == 1


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (ccxt.InsufficientFunds("paradex: not enough margin"), OrderRejectedError),
        (ccxt.InvalidOrder("paradex: size below minimum"), OrderRejectedError),
        (ccxt.ExchangeNotAvailable("paradex: maintenance"), TransientExchangeError),
        (ccxt.RateLimitExceeded("paradex: 429"), TransientExchangeError),
        (ccxt.NetworkError("paradex: connection reset"), UnknownOutcomeError),
    ],
)
def test_order_errors_are_typed_and_never_retried(failure, error):
    client, exchange = venue()
    exchange.refuse = failure
    with pytest.raises(error, match="paradex: create_order"):
        client.place_order(buy())
    assert len(exchange.created) == 1


def test_a_duplicate_id_answer_returns_the_order_the_venue_has():
    client, exchange = venue()
    client.place_order(buy())
    exchange.lagging_lookups = 1  # the check before sending misses the order...
    exchange.refuse = ccxt.DuplicateOrderId("paradex: duplicate client id")  # ...the venue not
    found = client.place_order(buy())
    assert found.status is OrderStatus.FILLED and found.venue_order_id == "9000"
    assert len(exchange.orders) == 1


def test_cancel_by_client_id_reports_the_cancelled_order():
    client, exchange = venue()
    client.place_order(buy("grid-1", "0.01", OrderType.LIMIT, D("95000.0"), post_only=True))
    assert exchange.created[0][5] == {"clientOrderId": "grid-1", "postOnly": True}
    cancelled = client.cancel_order("BTC", "grid-1")
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.price == D(95000)
    with pytest.raises(OrderRejectedError, match="no BTC order unknown"):
        client.cancel_order("BTC", "unknown")


def test_lookup_by_scanning_orders_where_the_venue_has_no_client_id_query():
    client, _ = venue(TradingAster, "aster")
    assert client.get_order("BTC", "a-1") is None
    client.place_order(buy("a-1", "0.01", OrderType.LIMIT, D("95000.0")))
    assert client.get_order("BTC", "a-1").status is OrderStatus.OPEN
    client.cancel_order("BTC", "a-1")
    assert client.get_order("BTC", "a-1").status is OrderStatus.CANCELLED


def test_positions_and_balance_are_normalized():
    client, _ = venue()
    [position] = client.positions()
    assert (position.symbol, position.qty, position.entry_price) == ("ETH", D("-1.5"), D("3851.2"))
    assert position.liquidation_price == D("4990.5") and position.leverage == 10
    balance = client.balance()
    assert (balance.asset, balance.total, balance.available, balance.margin_used) == (
        "USDC",
        D("10012.5"),
        D("9435.13"),
        D("577.37"),
    )


def test_deposit_is_found_by_its_transaction_hash():
    client, _ = venue()
    receipt = client.get_deposit("0xdeposit")
    assert receipt.state is MovementState.COMPLETED and receipt.amount == D(250)
    assert client.get_deposit("0xother") is None


def test_open_orders_without_our_ids_are_refused_clearly():
    client, _ = venue()
    with pytest.raises(CapabilityNotSupportedError, match="orders table"):
        client.open_orders()


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

"""dYdX v4 on its recorded traffic (the indexer): the book, orders by client id, positions
marked at the oracle price, the subaccount's equity, deposits."""

from decimal import Decimal

import pytest

from core.enums import MovementState, OrderStatus
from exchanges.base import Capability, MalformedResponseError
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {
    Capability.ORDER_BOOK,
    Capability.CLIENT_ORDER_ID_LOOKUP,
    Capability.POSITIONS,
    Capability.BALANCE,
    Capability.TRANSFER_STATUS,
}
NOW = "2025-07-29T06:00:00+00:00"


def client(replay, when=NOW):
    venue = replay("dydx")
    return venue, venue.client(at(when))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, dydx = client(replay)
    assert_refused(dydx, capability, refusal_calls(dydx)[capability])


def test_the_book_is_observed_when_fetched(replay):
    venue, dydx = client(replay)
    venue.serve("fetchOrderBook")
    book = dydx.top_of_book("BTC")
    assert (book.bid, book.bid_qty, book.ask, book.ask_qty) == (
        D(118267),
        D("0.3182"),
        D(118485),
        D("0.0001"),
    )
    assert book.timestamp.isoformat() == NOW


def test_positions_are_marked_at_the_oracle_price_with_the_markets_margin_fraction(replay):
    venue, dydx = client(replay)
    venue.serve("fetchPositions")
    venue.serve("fetchMarkets")  # fetched fresh: the mark is the oracle price there
    [btc] = dydx.positions()
    assert (btc.qty, btc.entry_price) == (D("-0.407"), D("118692.04840909092"))
    assert (btc.mark_price, btc.unrealized_pnl) == (D("118700.5426"), D("-57.26681734"))
    # Initial margin: notional at the mark times initialMarginFraction (0.02).
    assert btc.margin == D("0.407") * D("118700.5426") * D("0.02") and btc.leverage == 50
    assert len(venue.sent_to(r"/v4/perpetualMarkets")) == 2


def test_the_balance_is_the_subaccounts_equity_and_free_collateral(replay):
    venue, dydx = client(replay)
    venue.serve("fetchBalance")
    balance = dydx.balance()
    assert (balance.asset, balance.total, balance.available, balance.margin_used) == (
        "USDC",
        D("161451.040416029"),
        D(152508),
        D("8943.040416029"),
    )


def with_client_id(vcid):
    def patch(orders):
        orders[0]["clientId"] = vcid

    return patch


def test_an_order_is_found_by_its_integer_client_id(replay):
    venue, dydx = client(replay)
    vcid = dydx.quirks.client_ids.derive("pos-2-long-open")
    assert 0 < int(vcid) < 2**32
    venue.serve("fetchOpenOrders", patch=with_client_id(vcid))
    venue.serve("fetchClosedOrders")
    order = dydx.get_order("BTC", "pos-2-long-open")
    assert (order.status, order.venue_order_id, order.quantity, order.price) == (
        OrderStatus.OPEN,
        "cf37ba82-eb64-52dd-bd14-337394b7081a",
        D("0.001"),
        D(400000),
    )
    venue.serve("fetchOpenOrders")
    venue.serve("fetchClosedOrders")
    assert dydx.get_order("BTC", "never-sent") is None


def test_a_filled_order_without_its_average_price_is_refused_not_priced_at_none(replay):
    venue, dydx = client(replay)
    vcid = dydx.quirks.client_ids.derive("pos-2-long-open")
    venue.serve("fetchOpenOrders", patch=lambda orders: orders.clear())
    venue.serve("fetchClosedOrders", patch=with_client_id(vcid))  # FILLED, no average
    with pytest.raises(MalformedResponseError, match="average"):
        dydx.get_order("BTC", "pos-2-long-open")


def test_a_listed_deposit_is_complete(replay):
    venue, dydx = client(replay, "2025-08-01T00:00:00+00:00")
    venue.serve("fetchDeposits")
    tx = "13149545082FA441C07E7D1E776445D8EE9F8EA9C7BACC434BE21764D446DF81"
    deposit = dydx.get_deposit(tx)
    assert (deposit.state, deposit.amount, deposit.asset) == (
        MovementState.COMPLETED,
        D(10),
        "USDC",
    )


@pytest.mark.parametrize(
    ("method", "description"),
    [
        ("fetchMarkets", "fetchMarkets"),
        ("fetchOrderBook", "fetchOrderBook"),
        ("fetchPositions", "fetchPositions"),
        ("fetchBalance", "fetchBalance"),
        ("fetchOpenOrders", "fetchOpenOrders"),
        ("fetchClosedOrders", "fetchClosedOrders"),
        ("fetchDeposits", "fetchDeposits"),
    ],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("dydx", method, description) is None

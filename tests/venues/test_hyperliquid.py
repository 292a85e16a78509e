"""Hyperliquid on its recorded traffic: positions, orders by cloid, deposits.

Most of what perpbot needs from Hyperliquid is not in the recordings (the market list,
funding, the book, the reply to a cancel), and the order ccxt 4.5.90 builds is not the
recorded one: those are refused with the reason."""

from decimal import Decimal

import pytest

from core.enums import MovementState, OrderStatus
from exchanges.base import Capability, MalformedResponseError
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {Capability.CLIENT_ORDER_ID_LOOKUP, Capability.POSITIONS, Capability.TRANSFER_STATUS}
LEDGER = {"type": "userNonFundingLedgerUpdates"}


def client(replay, when="2024-10-20T10:00:00+00:00"):
    venue = replay("hyperliquid")
    return venue, venue.client(at(when))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, hyperliquid = client(replay)
    assert_refused(hyperliquid, capability, refusal_calls(hyperliquid)[capability])


def test_positions_marked_at_position_value_over_size(replay):
    venue, hyperliquid = client(replay)
    venue.serve("fetchPositions", "fetch positions")
    sol, eth = hyperliquid.positions()
    # ccxt 4.5.90 marks at positionValue / |szi|; the venue's own PnL agrees to the cent.
    assert (sol.symbol, sol.qty, sol.mark_price) == ("SOL", D("3.34"), D("138.91"))
    assert abs(sol.qty * (sol.mark_price - sol.entry_price) - sol.unrealized_pnl) < D("0.01")
    assert sol.unrealized_pnl == D("89.563507") and sol.liquidation_price is None
    assert (sol.margin, sol.leverage) == (D("23.19797"), 20)
    assert (eth.qty, eth.mark_price, eth.unrealized_pnl) == (D("3.6"), D("3803.9"), D("9734.04"))


def test_a_short_position_is_negative(replay):
    venue, hyperliquid = client(replay)
    venue.serve("fetchPositions", "short position")
    sol = next(p for p in hyperliquid.positions() if p.symbol == "SOL")
    assert (sol.qty, sol.mark_price, sol.liquidation_price) == (
        D("-0.5"),
        D("137.96"),
        D("22881.19788911"),
    )


def as_ours(vcid, coin):
    def patch(answer):
        answer["order"]["order"].update(cloid=vcid, coin=coin)

    return patch


def test_an_order_is_found_by_its_cloid(replay):
    venue, hyperliquid = client(replay, "2025-03-21T00:00:00+00:00")
    vcid = hyperliquid.quirks.client_ids.derive("pos-4-long-open")
    # The recorded resting order (on HYPE) as ours on ETH.
    venue.serve("fetchOrder", "fetch postOnly order", patch=as_ours(vcid, "ETH"))
    order = hyperliquid.get_order("ETH", "pos-4-long-open")
    assert (order.status, order.venue_order_id, order.quantity) == (
        OrderStatus.OPEN,
        "80972193016",
        D(2),
    )
    [sent] = venue.sent
    assert sent.json == {"type": "orderStatus", "user": "wallet", "oid": vcid}
    assert vcid.startswith("0x") and len(vcid) == 34


def test_a_filled_order_needs_its_fills_for_price_and_fee_never_none_or_zero(replay):
    venue, hyperliquid = client(replay, "2024-03-01T00:00:00+00:00")
    vcid = hyperliquid.quirks.client_ids.derive("pos-4-long-open")
    venue.serve("fetchOrder", "fetch order", patch=as_ours(vcid, "ETH"))  # filled, no avgPx
    venue.serve("fetchMyTrades", "user trades", body={"type": "userFills"})  # another order's
    with pytest.raises(MalformedResponseError, match="cannot be known"):
        hyperliquid.get_order("ETH", "pos-4-long-open")


def test_an_order_on_another_market_under_our_cloid_is_refused(replay):
    venue, hyperliquid = client(replay, "2025-03-21T00:00:00+00:00")
    vcid = hyperliquid.quirks.client_ids.derive("pos-4-long-open")
    venue.serve("fetchOrder", "fetch postOnly order", patch=as_ours(vcid, "SOL"))
    with pytest.raises(MalformedResponseError, match="ids collided"):
        hyperliquid.get_order("ETH", "pos-4-long-open")


def test_a_ledger_deposit_is_complete_and_in_usdc(replay):
    venue, hyperliquid = client(replay)
    venue.serve("fetchDeposits", path="/info", body=LEDGER, times=2)
    tx = "0xb17ab23a7006fe26145857954e728c72a118563deb7e32f80e317bb5b0fab955"
    deposit = hyperliquid.get_deposit(tx)
    assert (deposit.state, deposit.amount, deposit.asset) == (
        MovementState.COMPLETED,
        D(105),
        "USDC",
    )
    withdrawal = "0xa1eee9b39bb871d5c0c91892c457fdb78fd65f804502d1a09f0a9b80a5c43a81"
    assert hyperliquid.get_deposit(withdrawal) is None


@pytest.mark.parametrize(
    ("method", "description"),
    [("fetchOrder", "fetchOrder"), ("fetchPositions", "fetchPositions")],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("hyperliquid", method, description) is None


def test_the_order_ccxt_builds_is_not_the_recorded_one_so_placing_is_refused():
    assert recorded_request_mismatch("hyperliquid", "createOrder", "swap limit order") == (
        ".action.brokerCode: sent None, recorded 1"
    )


def test_ccxts_builder_fee_and_referrer_are_off_and_only_perpetuals_load():
    from exchanges.ccxt_venues import make_ccxt_exchange

    options = make_ccxt_exchange("hyperliquid").options
    assert (options["builderFee"], options["refSet"]) == (False, True)
    assert options["fetchMarkets"]["types"] == ["swap"]

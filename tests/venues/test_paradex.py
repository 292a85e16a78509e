"""Paradex on its recorded traffic: the book and deposits. The rest is refused: the
reasons are shown on the recordings themselves below."""

from decimal import Decimal

import pytest

from core.enums import MovementState
from exchanges.base import Capability
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {Capability.ORDER_BOOK, Capability.TRANSFER_STATUS}
NOW = "2024-06-14T15:20:00+00:00"


def client(replay, when=NOW):
    venue = replay("paradex")
    return venue, venue.client(at(when))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, paradex = client(replay)
    assert_refused(paradex, capability, refusal_calls(paradex)[capability])


def test_the_book_carries_the_venues_time(replay):
    venue, paradex = client(replay)
    venue.serve("fetchOrderBook")
    book = paradex.top_of_book("BTC")
    assert (book.bid, book.bid_qty, book.ask, book.ask_qty) == (
        D(66810),
        D("0.078"),
        D("67643.2"),
        D("3.734"),
    )
    assert book.timestamp.isoformat() == "2024-06-14T15:13:05.388000+00:00"


def test_a_deposit_is_found_by_its_hash(replay):
    venue, paradex = client(replay, "2024-07-25T00:00:00+00:00")
    venue.serve("fetchDeposits")
    tx = "0x66a736440f751c258d5bd89355a766b581518fab91c9w8e5d448502bcd8c3cc"
    deposit = paradex.get_deposit(tx)
    assert (deposit.state, deposit.amount, deposit.asset) == (
        MovementState.COMPLETED,
        D("78.544"),
        "USDC",
    )


def test_why_positions_balance_and_funding_are_refused(replay):
    venue, _ = client(replay)
    venue.serve("fetchPositions")
    venue.serve("fetchBalance")
    [position] = venue.exchange.fetch_positions()
    assert position["markPrice"] is None  # and the venue's position carries no mark
    balance = venue.exchange.fetch_balance()
    assert balance["USDC"]["free"] is None and balance["USDC"]["total"] == 78.544
    [market] = venue.exchange.load_markets().values()
    assert "funding_period_hours" not in market["info"]  # a rate's interval is unknown
    assert (market["taker"], market["maker"]) == (0.0003, -0.00005)  # ccxt's constants


@pytest.mark.parametrize(
    ("method", "description"),
    [("fetchOrderBook", "fetchOrderBook"), ("fetchDeposits", "fetchDeposits")],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("paradex", method, description) is None

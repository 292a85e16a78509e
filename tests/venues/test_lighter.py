"""Lighter on its recorded traffic: instruments (the markets re-typed as the perpetuals
they are) and the book. Funding, the account and orders are refused with the reason."""

from decimal import Decimal

import pytest

from exchanges.base import Capability
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {Capability.INSTRUMENTS, Capability.ORDER_BOOK}
NOW = "2025-12-10T12:00:00+00:00"


def client(replay):
    venue = replay("lighter")
    return venue, venue.client(at(NOW))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, lighter = client(replay)
    assert_refused(lighter, capability, refusal_calls(lighter)[capability])


def test_markets_without_a_type_are_the_venues_perpetuals(replay):
    venue, lighter = client(replay)
    [raw] = venue.exchange.load_markets().values()
    # ccxt 4.5.90's reading of a market without market_type: no type, not a swap.
    assert (raw["symbol"], raw["type"], raw["swap"], raw["settle"]) == (
        "ETH/USDC",
        None,
        False,
        None,
    )
    [eth] = lighter.instruments()
    assert (eth.symbol, eth.min_qty, eth.qty_step, eth.tick_size) == (
        "ETH",
        D("0.005"),
        D("0.0001"),
        D("0.01"),
    )
    assert (eth.maker_fee, eth.taker_fee) == (0, 0)  # the venue's own taker_fee/maker_fee
    assert venue.exchange.markets["ETH/USDC:USDC"]["swap"]  # ccxt knows the corrected market


def test_the_book_is_observed_when_fetched(replay):
    venue, lighter = client(replay)
    venue.serve("fetchOrderBook")
    book = lighter.top_of_book("ETH")
    assert (book.bid, book.bid_qty, book.ask, book.ask_qty) == (
        D("3429.8"),
        D("1.3237"),
        D(3430),
        D("0.2"),
    )
    assert book.timestamp.isoformat() == "2025-12-10T12:00:00+00:00"


def test_why_funding_is_refused(replay):
    venue, lighter = client(replay)
    lighter.instruments()
    venue.serve("fetchFundingRates")
    [rate] = venue.exchange.fetch_funding_rates().values()
    assert rate["interval"] is None and rate["timestamp"] is None


@pytest.mark.parametrize(
    ("method", "description"),
    [("fetchMarkets", "fetchMarkets"), ("fetchOrderBook", "fetchOrderBook")],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("lighter", method, description) is None

"""GRVT on its recorded traffic: the last settled funding rate, the book, the balance.

The recorded positions and open orders are empty lists and no order lookup is recorded,
so positions and trading are refused (a shape never seen is not assumed)."""

from decimal import Decimal

import pytest

from core.market import FundingKind
from exchanges.base import Capability
from tests.venues.common import ALL, assert_refused, at, refusal_calls
from tests.venues.harness import recorded_request_mismatch

D = Decimal
VERIFIED = {Capability.FUNDING_RATES, Capability.ORDER_BOOK, Capability.BALANCE}
NOW = "2026-01-12T17:00:00+00:00"


def client(replay, when=NOW):
    venue = replay("grvt")
    return venue, venue.client(at(when))


def test_capabilities_are_what_the_recordings_show(replay):
    assert client(replay)[1].capabilities() == VERIFIED


@pytest.mark.parametrize("capability", sorted(ALL - VERIFIED))
def test_the_rest_is_refused_with_the_reason(replay, capability):
    _, grvt = client(replay)
    assert_refused(grvt, capability, refusal_calls(grvt)[capability])


def test_the_rate_is_the_last_settlement_stamped_at_its_settlement(replay):
    venue, grvt = client(replay)
    venue.serve("fetchFundingRateHistory")
    [btc] = grvt.funding_rates(["BTC"])
    # The venue quotes 0.01 (percent); ccxt 4.5.90 divides by 100.
    assert (btc.rate, btc.interval_hours, btc.hourly_rate) == (D("0.0001"), 8, D("0.0000125"))
    # History, not a quote: its time is the settlement's, not the fetch's.
    assert btc.timestamp.isoformat() == "2026-01-12T16:00:00+00:00"
    assert btc.next_funding_time.isoformat() == "2026-01-13T00:00:00+00:00"
    assert btc.mark_price is None
    # Stored as the venue's current quote, labelled with the traded perpetual's settle asset.
    assert (btc.margin_asset, btc.kind) == ("USDT", FundingKind.PREDICTED)


def test_the_book_is_observed_when_fetched(replay):
    venue, grvt = client(replay)
    venue.serve("fetchOrderBook")
    book = grvt.top_of_book("BTC")
    assert (book.bid, book.ask, book.timestamp.isoformat()) == (D("88051.6"), D("88051.7"), NOW)


def test_the_balance_is_the_sub_accounts_equity_and_available_balance(replay):
    venue, grvt = client(replay)
    venue.serve("fetchBalance")
    balance = grvt.balance()
    assert (balance.asset, balance.total, balance.available, balance.margin_used) == (
        "USDT",
        D("16.569711"),
        D("12.16746"),
        D("4.402251"),
    )


def test_ccxts_builder_fee_is_off():
    assert client_options()["builderFee"] is False


def client_options():
    from exchanges.ccxt_venues import make_ccxt_exchange

    return make_ccxt_exchange("grvt").options


@pytest.mark.parametrize(
    ("method", "description"),
    [
        ("fetchFundingRateHistory", "fetchFundingRateHistory perp symbol"),
        ("fetchOrderBook", "fetchOrderBook perp"),
        ("fetchBalance", "fetchBalance no args"),
        ("fetchMarkets", "fetchMarkets no args"),
    ],
)
def test_ccxt_builds_the_recorded_requests(method, description):
    assert recorded_request_mismatch("grvt", method, description) is None

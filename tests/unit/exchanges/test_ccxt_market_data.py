"""The ccxt adapter on recorded venue responses, parsed by ccxt's own code for each venue."""

from decimal import Decimal

import ccxt
import pytest

from exchanges.base import (
    Capability,
    CapabilityNotSupportedError,
    ExchangeClient,
    MalformedResponseError,
    TransientExchangeError,
)
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import make_ccxt_exchange
from tests.support.clocks import RecordingClock

from .recorded import RecordedVenue

D = Decimal
WALLET = {"walletAddress": "0x" + "ab" * 20}


def client(venue, overrides=None, credentials=None, clock=None):
    recorded = RecordedVenue(venue, overrides)
    exchange = recorded.attach(make_ccxt_exchange(venue, credentials))
    return CcxtExchangeClient(venue, exchange, clock=clock or RecordingClock()), recorded


def test_the_adapter_satisfies_the_port():
    assert isinstance(client("paradex")[0], ExchangeClient)


@pytest.mark.parametrize(
    ("venue", "symbol", "rate", "interval", "hourly"),
    [
        # Hyperliquid quotes the hourly rate itself.
        ("hyperliquid", "ETH", "0.0000184", 1, "0.0000184"),
        ("hyperliquid", "SOL", "-0.0000061", 1, "-0.0000061"),
        # Paradex quotes per 8-hour funding period (funding_period_hours in its markets).
        ("paradex", "BTC", "0.0000826", 8, "0.000010325"),
        # Aster: 8 h for BTC, 4 h for SOL, from its separate funding-interval endpoint.
        ("aster", "BTC", "0.0001", 8, "0.0000125"),
        ("aster", "SOL", "0.00005012", 4, "0.00001253"),
        # dYdX: no current-rate call in ccxt; the last settled rate, hourly by its timestamps.
        ("dydx", "BTC", "0.00000931", 1, "0.00000931"),
    ],
)
def test_rates_are_normalized_to_hourly_with_the_venues_interval(
    venue, symbol, rate, interval, hourly
):
    [funding] = client(venue)[0].funding_rates([symbol])
    assert (funding.venue, funding.symbol) == (venue, symbol)
    assert funding.rate == D(rate) and funding.interval_hours == interval
    assert funding.hourly_rate == D(hourly)
    assert funding.apr == D(hourly) * 24 * 365


def test_all_rates_of_a_venue_and_their_context():
    rates = {r.symbol: r for r in client("aster")[0].funding_rates()}
    assert sorted(rates) == ["BTC", "SOL"]
    assert rates["BTC"].mark_price == D("97058.1")
    assert rates["BTC"].next_funding_time.isoformat() == "2024-12-03T16:00:00+00:00"
    assert rates["SOL"].next_funding_time.isoformat() == "2024-12-03T12:00:00+00:00"
    paradex = client("paradex")[0].funding_rates()
    assert [r.symbol for r in paradex] == ["BTC", "ETH"]  # the perpetual option is left out


def test_instruments_are_perpetuals_by_base_asset():
    hyperliquid = {i.symbol: i for i in client("hyperliquid")[0].instruments()}
    assert sorted(hyperliquid) == ["BTC", "ETH", "SOL"]  # MATIC is delisted
    eth = hyperliquid["ETH"]
    assert (eth.qty_step, eth.tick_size, eth.max_leverage) == (D("0.0001"), D("0.1"), 25)
    assert (eth.maker_fee, eth.taker_fee) == (D("0.00015"), D("0.00045"))
    aster = {i.symbol: i for i in client("aster")[0].instruments()}
    assert aster["SOL"].min_qty == D("0.01") and aster["SOL"].tick_size == D("0.001")
    assert aster["SOL"].max_leverage == 20  # not published through ccxt: the port's default


def test_top_of_book_from_the_venues_book():
    book = client("hyperliquid")[0].top_of_book("ETH")
    assert (book.bid, book.bid_qty, book.ask, book.ask_qty) == (
        D("3850.3"),
        D("12.5342"),
        D("3850.6"),
        D("8.1022"),
    )
    assert book.mid == D("3850.45")


def test_capability_gaps_name_the_venue_and_what_is_missing():
    paradex = client("paradex")[0]
    assert Capability.WITHDRAW not in paradex.capabilities()
    with pytest.raises(CapabilityNotSupportedError, match=r"paradex: withdraw is not supported"):
        paradex.withdraw("USDC", D(10), "0xabc", "starknet", "w-1")
    with pytest.raises(CapabilityNotSupportedError, match=r"needs fetchDepositAddress"):
        paradex.deposit_address("USDC", "starknet")
    with pytest.raises(CapabilityNotSupportedError, match="no perpetual market for DOGE"):
        paradex.top_of_book("DOGE")
    with pytest.raises(CapabilityNotSupportedError, match="idempotency key"):
        paradex.get_withdrawal("w-1")


@pytest.mark.parametrize(
    ("venue", "present", "absent"),
    [
        ("hyperliquid", {Capability.WITHDRAW, Capability.TRADING}, {Capability.DEPOSIT_ADDRESS}),
        ("paradex", {Capability.FUNDING_RATES}, {Capability.WITHDRAW}),
        ("aster", {Capability.WITHDRAW}, {Capability.TRANSFER_STATUS}),
        ("backpack", {Capability.DEPOSIT_ADDRESS, Capability.FUNDING_RATES}, set()),
        ("lighter", {Capability.FUNDING_RATES}, {Capability.DEPOSIT_ADDRESS}),
        ("grvt", {Capability.FUNDING_RATES, Capability.WITHDRAW}, {Capability.DEPOSIT_ADDRESS}),
        ("extended", {Capability.TRADING}, {Capability.DEPOSIT_ADDRESS}),
        ("apex", {Capability.POSITIONS}, {Capability.WITHDRAW, Capability.TRANSFER_STATUS}),
        ("dydx", {Capability.FUNDING_RATES, Capability.WITHDRAW}, {Capability.DEPOSIT_ADDRESS}),
    ],
)
def test_capabilities_come_from_ccxt_has_for_every_target_venue(venue, present, absent):
    capabilities = CcxtExchangeClient(venue, make_ccxt_exchange(venue)).capabilities()
    assert present <= capabilities and not absent & capabilities


def test_a_missing_funding_interval_is_refused_not_assumed():
    markets = RecordedVenue("paradex").exchanges[0]["response"]
    for market in markets["results"]:
        del market["funding_period_hours"]
    paradex, _ = client("paradex", [{"request": {"path": "/v1/markets"}, "response": markets}])
    with pytest.raises(MalformedResponseError, match=r"interval.*refusing to assume"):
        paradex.funding_rates(["BTC"])


def test_an_unparsable_rate_is_a_malformed_response():
    meta = RecordedVenue("hyperliquid").exchanges[1]["response"]
    meta[1][1]["funding"] = "n/a"
    hyperliquid, _ = client(
        "hyperliquid",
        [
            {
                "request": {
                    "method": "POST",
                    "path": "/info",
                    "json": {"type": "metaAndAssetCtxs"},
                },
                "response": meta,
            }
        ],
    )
    with pytest.raises(MalformedResponseError, match=r"ETH.*fundingRate"):
        hyperliquid.funding_rates(["ETH"])


def test_one_settlement_is_not_enough_to_know_an_interval():
    with pytest.raises(MalformedResponseError, match="two are needed"):
        client("dydx")[0].funding_rates(["ETH"])


def test_an_empty_book_side_is_a_malformed_response():
    empty = {"coin": "ETH", "time": 1733215021512, "levels": [[], [{"px": "1", "sz": "1", "n": 1}]]}
    hyperliquid, _ = client(
        "hyperliquid",
        [
            {
                "request": {"method": "POST", "path": "/info", "json": {"type": "l2Book"}},
                "response": empty,
            }
        ],
    )
    with pytest.raises(MalformedResponseError, match="empty side"):
        hyperliquid.top_of_book("ETH")


def test_reads_retry_transient_errors_with_backoff():
    clock = RecordingClock()
    summary = {"request": {"path": "/v1/markets/summary"}, "raise": "RequestTimeout", "times": 2}
    paradex, recorded = client("paradex", [summary], clock=clock)
    [rate] = paradex.funding_rates(["ETH"])
    assert rate.interval_hours == 8 and clock.waits == [0.25, 0.5]
    attempts = [r for r in recorded.requests if r[1].endswith("/summary")]
    assert len(attempts) == 3


def test_reads_give_up_after_a_bounded_number_of_attempts():
    clock = RecordingClock()
    down = {"request": {"path": "/v1/markets/summary"}, "raise": "ExchangeNotAvailable"}
    paradex, _ = client("paradex", [down], clock=clock)
    with pytest.raises(TransientExchangeError, match="paradex: fetch_funding_rates: Exchange"):
        paradex.funding_rates(["BTC"])
    assert clock.waits == [0.25, 0.5]


def test_a_non_transient_read_error_is_not_retried():
    clock = RecordingClock()
    broken = {"request": {"path": "/v1/markets"}, "raise": "BadResponse"}
    paradex, _ = client("paradex", [broken], clock=clock)
    with pytest.raises(MalformedResponseError, match="load_markets"):
        paradex.instruments()
    assert clock.waits == []


def test_client_order_lookup_on_hyperliquid_uses_the_venues_id_format():
    hyperliquid, recorded = client("hyperliquid", credentials=WALLET)
    order = hyperliquid.get_order("ETH", "pos-1-long-open")
    assert order is not None and order.client_order_id == "pos-1-long-open"
    assert order.venue_order_id == "77738308" and order.filled_qty == D("0.02")
    assert order.status.value == "filled" and order.side.value == "buy"
    sent = next(r[2] for r in recorded.requests if r[2].get("type") == "orderStatus")
    assert sent["oid"].startswith("0x") and len(sent["oid"]) == 34
    assert hyperliquid.get_order("ETH", "never-sent") is None


def test_the_adapter_does_not_show_credentials():
    adapter = CcxtExchangeClient(
        "hyperliquid", make_ccxt_exchange("hyperliquid", {"privateKey": "0xsecret"})
    )
    assert "secret" not in repr(adapter)
    assert isinstance(ccxt.hyperliquid().has, dict)


@pytest.mark.parametrize(
    ("venue", "symbol", "margin"),
    [("hyperliquid", "ETH", "USDC"), ("aster", "BTC", "USDT"), ("dydx", "BTC", "USDC")],
)
def test_rates_are_quotes_labelled_with_the_settle_asset_of_the_traded_market(
    venue, symbol, margin
):
    from core.market import FundingKind

    [funding] = client(venue)[0].funding_rates([symbol])
    assert (funding.margin_asset, funding.kind) == (margin, FundingKind.PREDICTED)

"""`data fetch` on recorded venue traffic: the real ccxt client builds each request and parses
the recorded `fetchFundingRateHistory` answers; perpbot pages, de-duplicates, measures the
intervals and validates.

Each recording holds one settlement. Where a test needs several pages, they are built from
that recorded settlement (same fields, its time and rate edited), as the venue tests edit a
recorded answer; each test says which values it put in.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import ccxt
import pytest

from core.clock import ManualClock
from core.market import FundingKind
from exchanges.base import (
    CapabilityNotSupportedError,
    MalformedResponseError,
    TransientExchangeError,
)
from funding_service.history.fetch import fetch_settlements
from funding_service.history.validate import HistoryRowError

NOW = datetime(2026, 8, 22, tzinfo=UTC)
# ccxt 4.5.90 asks Aster's v3 endpoint; the recorded request is v1's (the answers are alike).
ASTER_HISTORY = r"/fapi/v3/fundingRate"


def aster_page(*settlements: tuple[int, str]) -> Callable[[Any], None]:
    """A patch: the recorded settlement once per (funding time in ms, rate) given."""

    def patch(answer: list[dict[str, Any]]) -> None:
        recorded = answer[0]
        answer[:] = [{**recorded, "fundingTime": t, "fundingRate": r} for t, r in settlements]

    return patch


def dydx_page(*settlements: tuple[str, str]) -> Callable[[Any], None]:
    """A patch: the recorded settlement once per (effectiveAt, rate) given, newest first as
    the indexer answers."""

    def patch(answer: dict[str, Any]) -> None:
        recorded = answer["historicalFunding"][0]
        answer["historicalFunding"] = [
            {**recorded, "effectiveAt": at, "rate": rate} for at, rate in settlements
        ]

    return patch


def test_pages_are_followed_deduplicated_and_cut_at_until(replay):
    venue = replay("aster")
    # Times and rates of real Binance BTCUSDT settlements of 2026-03-01/02 (the shared
    # funding-history dataset), with their milliseconds of jitter, in Aster's recorded shape.
    # Page 2 repeats page 1's last settlement; page 3 reaches past the requested end.
    for page in (
        [(1772323200005, "-0.00000688"), (1772352000000, "0.00004563")],
        [
            (1772352000000, "0.00004563"),
            (1772380800002, "0.00002948"),
            (1772409600001, "-0.00000299"),
        ],
        [(1772438400007, "-0.00001956"), (1772467200000, "-0.00001083")],
    ):
        venue.serve("fetchFundingRateHistory", path=ASTER_HISTORY, patch=aster_page(*page))
    batch = fetch_settlements(
        venue.exchange,
        "aster",
        "BTC-USDT-PERP",
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 2, 12, tzinfo=UTC),
        ManualClock(NOW),
        page_limit=3,
    )
    rates = batch.to_rates()
    # Five settlements: page 2's repeat of page 1's last is stored once, page 3's 16:00 one
    # is after `until` and left out.
    assert [r.timestamp.strftime("%m-%d %H:%M:%S.%f")[:-3] for r in rates] == [
        "03-01 00:00:00.005",
        "03-01 08:00:00.000",
        "03-01 16:00:00.002",
        "03-02 00:00:00.001",
        "03-02 08:00:00.007",
    ]
    assert [r.rate for r in rates] == [
        D("-0.00000688"),
        D("0.00004563"),
        D("0.00002948"),
        D("-0.00000299"),
        D("-0.00001956"),
    ]
    # The interval is measured between settlements (ms jitter is not an interval).
    assert {r.interval_hours for r in rates} == {D(8)}
    assert {(r.venue, r.symbol, r.margin_asset, r.kind) for r in rates} == {
        ("aster", "BTC", "USDT", FundingKind.REALISED)
    }
    # ccxt sent the cursor forward past the newest settlement each time, with until and limit.
    asked = [sent.query for sent in venue.sent_to(ASTER_HISTORY)]
    assert [q["startTime"] for q in asked] == ["1772323200000", "1772352000001", "1772409600002"]
    assert {q["endTime"] for q in asked} == {"1772452800000"}
    assert {q["limit"] for q in asked} == {"3"}


def test_the_recorded_single_settlement_is_refused_not_given_a_guessed_interval(replay):
    venue = replay("aster")
    venue.serve("fetchFundingRateHistory", path=ASTER_HISTORY)  # as recorded: 2025-06-16 08:00
    # Asked again from just after it, the venue has nothing more (an empty page).
    venue.serve("fetchFundingRateHistory", path=ASTER_HISTORY, patch=lambda page: page.clear())
    with pytest.raises(HistoryRowError, match=r"aster BTC/USDT:USDT \(fetched\): row 1.*interval"):
        fetch_settlements(
            venue.exchange,
            "aster",
            "BTC/USDT:USDT",
            datetime(2025, 6, 1, tzinfo=UTC),
            datetime(2025, 7, 1, tzinfo=UTC),
            ManualClock(NOW),
        )


def test_dydx_indexer_answering_the_newest_end_is_paged_backwards(replay):
    venue = replay("dydx")
    # dYdX's indexer ignores `since`: it answers the newest `limit` settlements at or before
    # `effectiveBeforeOrAt` (our `until`). The recorded settlement (05:00:01.053, rate
    # 0.000176) is the newest; the three hours before it are copies of it with their time
    # and rate edited (rates told apart, jitter of a few ms as the venue has it).
    venue.serve(
        "fetchFundingRateHistory",
        patch=dydx_page(
            ("2025-07-29T05:00:01.053Z", "0.000176"), ("2025-07-29T04:00:00.981Z", "0.000152")
        ),
    )
    # Asked before 04:00:00.981, twice (the second time from just after 03:00: nothing new).
    venue.serve(
        "fetchFundingRateHistory",
        patch=dydx_page(
            ("2025-07-29T03:00:01.017Z", "0.000131"), ("2025-07-29T02:00:00.996Z", "0.000127")
        ),
        times=2,
    )
    batch = fetch_settlements(
        venue.exchange,
        "dydx",
        "BTC",
        datetime(2025, 7, 29, 2, 30, tzinfo=UTC),
        datetime(2025, 7, 29, 6, tzinfo=UTC),
        ManualClock(NOW),
        page_limit=2,
    )
    rates = batch.to_rates()
    # 02:00 is before `since` and left out; the rest is hourly, measured between settlements.
    assert [(r.timestamp.hour, r.rate, r.interval_hours) for r in rates] == [
        (3, D("0.000131"), 1),
        (4, D("0.000152"), 1),
        (5, D("0.000176"), 1),
    ]
    assert {(r.symbol, r.margin_asset) for r in rates} == {("BTC", "USDC")}
    # The second request moved the window's end before the oldest settlement received.
    before = [sent.query["effectiveBeforeOrAt"] for sent in venue.sent_to(r".*/BTC-USD")]
    assert before[:2] == ["2025-07-29T06:00:00.000Z", "2025-07-29T04:00:00.980Z"]
    assert {sent.query["limit"] for sent in venue.sent_to(r".*/BTC-USD")} == {"2"}


def test_dydx_paging_backwards_goes_on_across_a_missing_settlement(replay):
    venue = replay("dydx")
    # As above, built from the recorded settlement; the venue has no settlement at 03:00.
    for page in (
        [("2025-07-29T05:00:01.053Z", "0.000176"), ("2025-07-29T04:00:00.981Z", "0.000152")],
        [("2025-07-29T02:00:00.996Z", "0.000127"), ("2025-07-29T01:00:01.004Z", "0.000119")],
        [("2025-07-29T00:00:00.990Z", "0.000104"), ("2025-07-28T23:00:01.002Z", "0.000098")],
        [("2025-07-28T22:00:00.995Z", "0.000091"), ("2025-07-28T21:00:01.008Z", "0.000087")],
    ):
        venue.serve("fetchFundingRateHistory", patch=dydx_page(*page))
    batch = fetch_settlements(
        venue.exchange,
        "dydx",
        "BTC",
        datetime(2025, 7, 28, 22, 30, tzinfo=UTC),
        datetime(2025, 7, 29, 6, tzinfo=UTC),
        ManualClock(NOW),
        page_limit=2,
    )
    # What is older than the gap is fetched too, and nothing is made up for 03:00.
    assert [(f"{r.timestamp:%d %H}", r.rate) for r in batch.to_rates()] == [
        ("28 23", D("0.000098")),
        ("29 00", D("0.000104")),
        ("29 01", D("0.000119")),
        ("29 02", D("0.000127")),
        ("29 04", D("0.000152")),
        ("29 05", D("0.000176")),
    ]
    before = [sent.query["effectiveBeforeOrAt"] for sent in venue.sent_to(r".*/BTC-USD")]
    assert before == [
        "2025-07-29T06:00:00.000Z",
        "2025-07-29T04:00:00.980Z",
        "2025-07-29T01:00:01.003Z",
        "2025-07-28T23:00:01.001Z",
    ]


def test_without_network_the_error_names_the_venue(replay):
    venue = replay("aster", markets="none")  # the market list has to be fetched first
    offline = ccxt.NetworkError("aster GET https://fapi.asterdex.com/fapi/v3/exchangeInfo")
    venue.fail("fetchMarkets", offline, path=".*", times=None)  # every request fails
    clock = ManualClock(NOW)
    with pytest.raises(TransientExchangeError, match="aster: load_markets: NetworkError"):
        fetch_settlements(
            venue.exchange, "aster", "BTC", datetime(2026, 1, 1, tzinfo=UTC), NOW, clock
        )
    assert clock.now() > NOW  # it retried, waiting through the clock


def test_a_venue_without_funding_history_is_refused(replay):
    venue = replay("lighter")  # ccxt has no fetchFundingRateHistory for Lighter
    with pytest.raises(CapabilityNotSupportedError, match=r"lighter: .*fetchFundingRateHistory"):
        fetch_settlements(
            venue.exchange,
            "lighter",
            "BTC",
            datetime(2026, 1, 1, tzinfo=UTC),
            NOW,
            ManualClock(NOW),
        )
    assert venue.sent == []  # refused before asking the venue anything


def test_a_settlement_without_a_time_is_a_malformed_answer(replay):
    venue = replay("aster")
    venue.serve(
        "fetchFundingRateHistory", path=ASTER_HISTORY, patch=lambda page: page[0].pop("fundingTime")
    )
    with pytest.raises(
        MalformedResponseError, match=r"aster: .*BTC/USDT:USDT: a settlement has no"
    ):
        fetch_settlements(
            venue.exchange, "aster", "BTC", datetime(2026, 1, 1, tzinfo=UTC), NOW, ManualClock(NOW)
        )

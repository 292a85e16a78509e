"""`data fetch` on recorded venue traffic: the real ccxt client builds each request and parses
the recorded answers; perpbot pages, de-duplicates, measures intervals and validates."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D

import ccxt
import pytest

from core.clock import ManualClock
from core.market import FundingKind
from exchanges.base import CapabilityNotSupportedError, TransientExchangeError
from exchanges.ccxt_venues import make_ccxt_exchange
from funding_service.history.fetch import fetch_settlements
from funding_service.history.validate import HistoryRowError
from tests.unit.exchanges.recorded import FIXTURES, RecordedVenue

NOW = datetime(2026, 8, 22, tzinfo=UTC)
HISTORY = json.loads((FIXTURES / "history" / "aster.json").read_text())


def recorded(venue, overrides=()):
    replay = RecordedVenue(venue, [dict(e) for e in overrides])
    return replay.attach(make_ccxt_exchange(venue)), replay


def test_pages_are_followed_deduplicated_and_cut_at_until():
    exchange, replay = recorded("aster", HISTORY["pages"])
    batch = fetch_settlements(
        exchange,
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
    asked = [query for _, path, query in replay.requests if path.endswith("fundingRate")]
    assert [q["startTime"] for q in asked] == ["1772323200000", "1772352000001", "1772409600002"]
    assert {q["endTime"] for q in asked} == {"1772452800000"}
    assert {q["limit"] for q in asked} == {"3"}


def test_the_recorded_single_settlement_is_refused_not_given_a_guessed_interval():
    exchange, _ = recorded("aster", HISTORY["recorded"])
    with pytest.raises(HistoryRowError, match=r"aster BTC/USDT:USDT \(fetched\): row 1.*interval"):
        fetch_settlements(
            exchange,
            "aster",
            "BTC/USDT:USDT",
            datetime(2025, 6, 1, tzinfo=UTC),
            datetime(2025, 7, 1, tzinfo=UTC),
            ManualClock(NOW),
        )


def test_dydx_hourly_history_from_its_indexer():
    exchange, _ = recorded("dydx")
    batch = fetch_settlements(
        exchange,
        "dydx",
        "BTC",
        datetime(2024, 12, 3, tzinfo=UTC),
        datetime(2024, 12, 4, tzinfo=UTC),
        ManualClock(NOW),
        page_limit=2,
    )
    rates = batch.to_rates()
    assert [(r.timestamp.hour, r.rate, r.interval_hours) for r in rates] == [
        (6, D("0.00001102"), 1),
        (7, D("0.00000874"), 1),
        (8, D("0.00000931"), 1),
    ]
    assert {r.margin_asset for r in rates} == {"USDC"}


def test_without_network_the_error_names_the_venue():
    exchange, _ = recorded("aster")

    def offline(*args, **kwargs):
        raise ccxt.NetworkError("aster GET https://fapi.asterdex.com/fapi/v3/exchangeInfo")

    exchange.fetch = offline
    clock = ManualClock(NOW)
    with pytest.raises(TransientExchangeError, match="aster: load_markets: NetworkError"):
        fetch_settlements(exchange, "aster", "BTC", datetime(2026, 1, 1, tzinfo=UTC), NOW, clock)
    assert clock.now() > NOW  # it retried, waiting through the clock


def test_a_venue_without_funding_history_is_refused():
    exchange, _ = recorded("paradex")
    exchange.has = {**exchange.has, "fetchFundingRateHistory": False}
    with pytest.raises(CapabilityNotSupportedError, match="fetchFundingRateHistory"):
        fetch_settlements(
            exchange, "paradex", "BTC", datetime(2026, 1, 1, tzinfo=UTC), NOW, ManualClock(NOW)
        )


def test_a_settlement_without_a_time_is_a_malformed_answer():
    from exchanges.base import MalformedResponseError

    page = {
        "request": {"path": "/fapi/v3/fundingRate"},
        "response": [{"symbol": "BTCUSDT", "fundingRate": "0.0001"}],
    }
    exchange, _ = recorded("aster", [page])
    with pytest.raises(
        MalformedResponseError, match=r"aster: .*BTC/USDT:USDT: a settlement has no"
    ):
        fetch_settlements(
            exchange, "aster", "BTC", datetime(2026, 1, 1, tzinfo=UTC), NOW, ManualClock(NOW)
        )

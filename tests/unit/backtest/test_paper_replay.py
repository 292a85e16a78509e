"""The sample's history as the paper venues' hourly ticks (`DEMO_DATA=real make demo`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backtest.history import load_data
from backtest.paper_replay import paper_ticks
from core.clock import ManualClock
from core.settings import PROJECT_ROOT
from funding_service.history.importer import load_history
from funding_service.history.mapping import ColumnMapping

SAMPLE = PROJECT_ROOT / "data" / "sample" / "funding-history"
START = datetime(2025, 10, 10, tzinfo=UTC)
END = START + timedelta(hours=30)
NOW = ManualClock(datetime(2026, 12, 1, tzinfo=UTC))
VENUES = ["binance", "bybit", "hyperliquid"]


@pytest.fixture(scope="module")
def ticks():
    data = load_data(SAMPLE, VENUES, ["BTC", "ETH", "SOL"], START, END, NOW)
    return paper_ticks(data, START, END)


def _settled(venue: str, symbol: str) -> dict[datetime, Decimal]:
    """The sample's settlements of one series, by the hour they were stamped in."""
    batch = load_history(SAMPLE, ColumnMapping(), NOW)
    rows = (batch.venue == venue) & (batch.symbol == symbol)
    asset = "USDT" if venue != "hyperliquid" else "USDC"
    rows &= batch.margin_asset == asset
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    found = {}
    for us, rate in zip(batch.settled_us[rows].tolist(), batch.rate[rows].tolist(), strict=True):
        at = epoch + timedelta(microseconds=us)
        found[at.replace(minute=0, second=0, microsecond=0)] = Decimal(repr(rate))
    return found


def test_one_tick_per_hour_per_venue_and_symbol(ticks):
    hours = int((END - START) / timedelta(hours=1)) + 1
    assert len(ticks) == hours * 3 * 3
    assert {t.ts.minute for t in ticks} == {0}
    assert ticks == sorted(ticks, key=lambda t: t.ts)


def test_each_tick_carries_the_rate_settled_at_its_hour(ticks):
    for venue in VENUES:
        settled = _settled(venue, "BTC")
        series = [t for t in ticks if t.venue == venue and t.symbol == "BTC"]
        paid_hours = [t for t in series if t.ts in settled]
        assert paid_hours, venue
        for tick in paid_hours:  # the calendar pays at this hour the rate settled then
            assert tick.funding_rate == settled[tick.ts], (venue, tick.ts)
    hourly = {t.interval_hours for t in ticks if t.venue == "hyperliquid"}
    eight = {t.interval_hours for t in ticks if t.venue != "hyperliquid"}
    assert (hourly, eight) == ({Decimal(1)}, {Decimal(8)})


def test_between_settlements_the_last_rate_stands_and_every_venue_has_one_price(ticks):
    binance = [t for t in ticks if t.venue == "binance" and t.symbol == "ETH"]
    first_day = [t for t in binance if t.ts.date() == START.date() and 1 <= t.ts.hour < 8]
    assert len(first_day) == 7 and len({t.funding_rate for t in first_day}) == 1
    at = START + timedelta(hours=5)
    marks = {t.venue: t.mark_price for t in ticks if t.ts == at and t.symbol == "ETH"}
    assert len(marks) == 3 and len(set(marks.values())) == 1  # the Binance mark proxy


def test_a_start_between_hours_is_refused():
    data = load_data(SAMPLE, VENUES, ["BTC"], START, END, NOW)
    with pytest.raises(ValueError, match="whole hour"):
        paper_ticks(data, START + timedelta(minutes=30), END)

"""A settled rate is usable only from its settlement time; funding is paid only to a
position held at that time; the price proxy is stated.

Two venues, one symbol, a hand-made CSV history: Binance settles every 8 hours (with marks),
Hyperliquid every hour. Hyperliquid's rate jumps at the 05:00 settlement of day 2 (stamped
32 ms after the hour, as Hyperliquid stamps them), so going long Binance and short
Hyperliquid pays from then on. The backtest acts at minute 1 of each hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from backtest import engine
from backtest.history import load_data
from core.clock import ManualClock

D = Decimal
DAY1 = datetime(2025, 1, 1, tzinfo=UTC)
JUMP = DAY1 + timedelta(days=1, hours=5, milliseconds=32)
NOW = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))

CONFIG = {
    "type": "funding_arbitrage",
    "name": "arb",
    "venues": [{"name": "binance"}, {"name": "hyperliquid"}],
    "symbols": ["BTC"],
    "sizing": {"position_size_usd": "5000", "leverage": "3"},
    "horizon_hours": "168",
    "entry": {"min_apr": "0.10", "max_breakeven_hours": "48", "max_rate_age_seconds": 32400},
    "risk": {
        "max_position_usd": "5000",
        "max_total_exposure_usd": "10000",
        "max_positions": 1,
        "max_leverage": "5",
        "min_liquidation_distance": "0.15",
    },
    "rebalance": {"type": "divergence_flip", "flip_margin_apr": "0.02"},
}


def _history(folder: Path) -> Path:
    rows = ["venue,canonical_symbol,settlement_ts,rate_raw,interval_hours,is_predicted,mark_price"]
    for k in range(0, 3 * 24, 8):
        at = DAY1 + timedelta(hours=k)
        mark = 60_000 + 10 * k
        rows.append(f"binance,BTC-USDT-PERP,{at.isoformat()},0.0001,8,false,{mark}")
    for k in range(3 * 24):
        at = DAY1 + timedelta(hours=k, milliseconds=32)
        rate = "0.0005" if at >= JUMP else "0.0000125"
        rows.append(f"hyperliquid,BTC-USDC-PERP,{at.isoformat()},{rate},1,false,")
    path = folder / "history.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def data(tmp_path: Path):
    return load_data(
        _history(tmp_path), ["binance", "hyperliquid"], ["BTC"], DAY1, DAY1 + timedelta(days=3), NOW
    )


def test_the_strategy_opens_only_once_the_jump_is_settled(data):
    result = engine.run("t", CONFIG, data)
    (position,) = result.positions
    assert (position.long_dex, position.short_dex) == ("binance", "hyperliquid")
    # 05:00:00.032 settles the jump; the cycle at 05:01 is the first that may know it.
    assert position.opened_at == DAY1 + timedelta(days=1, hours=5, minutes=1)


def test_a_quote_is_visible_from_its_settlement_time_on(data):
    every = data.quotes("hyperliquid", data.start - timedelta(days=4), data.end)
    quotes = [q for q in every if q.rate == D("0.0005")]
    assert quotes[0].timestamp == JUMP
    assert data.quotes("hyperliquid", JUMP - timedelta(microseconds=1), JUMP) == [quotes[0]]
    assert JUMP not in {q.timestamp for q in data.quotes("hyperliquid", JUMP, data.end)}
    market = data.markets["hyperliquid"]
    before = market.latest(["BTC"], JUMP - timedelta(microseconds=1))["BTC"]
    after = market.latest(["BTC"], JUMP)["BTC"]
    assert (before.funding_rate, after.funding_rate) == (D("0.0000125"), D("0.0005"))


def test_funding_is_paid_only_for_settlements_after_the_open(data):
    result = engine.run("t", CONFIG, data)
    (position,) = result.positions
    state = result.venues["hyperliquid"]
    paid = [e for e in state.ledger if e.kind.value == "funding"]
    assert paid, "the short leg on hyperliquid collects funding"
    assert min(e.occurred_at for e in paid) == JUMP + timedelta(hours=1)
    assert all(e.occurred_at > position.opened_at for e in paid)


def test_the_price_proxy_is_stated_and_every_venue_uses_it(data):
    assert data.price_proxy is not None
    assert data.price_proxy.startswith("binance mark_price (binance-USDT) for every venue of BTC")
    assert "no price for hyperliquid" in data.price_proxy
    assert "interpolated" in data.price_proxy
    at = DAY1 + timedelta(hours=4)  # between Binance's 00:00 (60,000) and 08:00 (60,080)
    for venue in ("binance", "hyperliquid"):
        assert data.markets[venue].latest(["BTC"], at)["BTC"].mark_price == D(60_040)
    assert data.margin_assets == {"binance": "USDT", "hyperliquid": "USDC"}

"""The pre-screen: settlements on hourly buckets without look-ahead or fill-forward, and runs
of hours above the threshold counted as a plain loop would count them."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.clock import ManualClock
from funding_service.history.batch import to_micros
from funding_service.history.importer import load_history
from funding_service.history.mapping import ColumnMapping
from funding_service.history.screen import ScreenParams, _runs, hourly_grid, screen

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HEADER = "venue,canonical_symbol,settlement_ts,rate_raw,interval_hours\n"


def batch_of(tmp_path: Path, rows: list[tuple[str, str, datetime, str, int]]):
    lines = [f"{v},{s},{t.isoformat()},{r},{h}" for v, s, t, r, h in rows]
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return load_history(path, ColumnMapping(), ManualClock(T0 + timedelta(days=30)))


def hour(k: int) -> int:
    return to_micros(T0) // 3_600_000_000 + k


def test_an_8h_settlement_covers_the_8_hours_after_it_is_paid_never_before(tmp_path):
    batch = batch_of(
        tmp_path,
        [
            ("binance", "BTC-USDT-PERP", T0, "0.0008", 8),
            ("binance", "BTC-USDT-PERP", T0 + timedelta(hours=8), "0.0016", 8),
            # Hyperliquid stamps a few ms late: still the 05:00 hour's settlement.
            ("hyperliquid", "BTC-USDC-PERP", T0 + timedelta(hours=5, milliseconds=32), "1e-5", 1),
        ],
    )
    grid = hourly_grid(batch)
    assert grid.start_hour == hour(0)
    binance = grid.hourly[grid.instruments.index(("BTC", "binance", "USDT"))]
    # Paid at 00:00 for [16:00, 00:00) of the day before: known from 00:00, so hours 0-7
    # carry 0.0008 / 8; the 08:00 settlement takes hours 8-15; nothing after (no fill-forward).
    assert np.allclose(binance[:8], 0.0001) and np.allclose(binance[8:16], 0.0002)
    assert len(binance) == 16
    hyper = grid.hourly[grid.instruments.index(("BTC", "hyperliquid", "USDC"))]
    assert np.isnan(hyper[:5]).all() and hyper[5] == pytest.approx(1e-5)
    assert np.isnan(hyper[6:]).all()


def test_a_missing_settlement_leaves_its_hours_empty_and_ends_the_run(tmp_path):
    rows = [("bybit", "ETH-USDT-PERP", T0 + timedelta(hours=h), "0.00001", 1) for h in range(6)]
    rows += [
        ("hyperliquid", "ETH-USDC-PERP", T0 + timedelta(hours=h), "0.0005", 1) for h in range(6)
    ]
    del rows[2]  # Bybit's 02:00 settlement is missing
    results = screen(batch_of(tmp_path, rows), ScreenParams(fees_bps=0, min_apr_pct=10))
    best = results[0]
    assert (str(best.long), str(best.short)) == ("bybit/USDT", "hyperliquid/USDC")
    assert best.hours == 5  # the missing hour counts for neither leg
    assert best.above == 5 and best.runs == 2  # 00-01 and 03-05: the gap splits the run
    assert (best.median_run_hours, best.longest_run_hours) == (2.5, 3)
    assert best.mean_apr_above == pytest.approx((0.0005 - 0.00001) * 8760)


def test_usdt_and_usdc_perpetuals_of_one_venue_are_separate_legs(tmp_path):
    rows = [
        ("binance", "SOL-USDT-PERP", T0, "0.0001", 8),
        ("binance", "SOL-USDC-PERP", T0, "0.0009", 8),
    ]
    rows += [("hyperliquid", "SOL-USDC-PERP", T0 + timedelta(hours=h), "0", 1) for h in range(8)]
    legs = {
        (str(r.long), str(r.short)): r for r in screen(batch_of(tmp_path, rows), ScreenParams())
    }
    assert set(legs) == {
        ("binance/USDT", "hyperliquid/USDC"),
        ("binance/USDC", "hyperliquid/USDC"),
        ("hyperliquid/USDC", "binance/USDT"),
        ("hyperliquid/USDC", "binance/USDC"),
    }  # no pair of a venue with itself
    assert legs[("hyperliquid/USDC", "binance/USDC")].mean_apr_above == pytest.approx(
        0.0009 / 8 * 8760
    )


def test_runs_match_a_plain_loop_on_random_hours():
    rnd = random.Random(5)
    above = np.array([[rnd.random() < p for _ in range(300)] for p in (0.0, 0.3, 0.7, 1.0)])
    runs, median, longest = _runs(above)
    for row, r, m, lg in zip(above, runs, median, longest, strict=True):
        lengths, current = [], 0
        for flag in [*row, False]:
            if flag:
                current += 1
            elif current:
                lengths.append(current)
                current = 0
        assert r == len(lengths)
        assert lg == (max(lengths) if lengths else 0)
        assert m == (float(np.median(lengths)) if lengths else 0.0)


def test_the_threshold_is_the_fee_implied_one_or_the_minimum_apr():
    assert ScreenParams(fees_bps=22, horizon_days=16).threshold_hourly == pytest.approx(
        0.0022 / (16 * 24)
    )
    assert ScreenParams(fees_bps=0, min_apr_pct=5).threshold_hourly == pytest.approx(0.05 / 8760)
    with pytest.raises(ValueError, match="horizon"):
        ScreenParams(horizon_days=0)

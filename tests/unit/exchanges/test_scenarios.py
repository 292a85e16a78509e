"""Generated scenarios and the CSV format (no database)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import mean

import pytest

from exchanges.scenarios import (
    CSV_COLUMNS,
    ScenarioFormatError,
    generate_scenario,
    load_csv,
    write_csv,
)
from exchanges.venues import VENUES, symbol_spec

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def by_market(ticks):
    markets = {}
    for tick in ticks:
        markets.setdefault((tick.venue, tick.symbol), []).append(tick)
    return markets


def test_same_seed_same_scenario_and_another_seed_another():
    one = generate_scenario(1, ["hyperliquid", "paradex"], ["BTC", "ETH"], T0, hours=24)
    assert one == generate_scenario(1, ["hyperliquid", "paradex"], ["BTC", "ETH"], T0, hours=24)
    assert one != generate_scenario(2, ["hyperliquid", "paradex"], ["BTC", "ETH"], T0, hours=24)


def test_adding_a_venue_does_not_change_the_others():
    alone = generate_scenario(3, ["lighter"], ["SOL"], T0, hours=12)
    together = generate_scenario(3, ["aster", "lighter"], ["SOL"], T0, hours=12)
    assert by_market(together)[("lighter", "SOL")] == alone


def test_ticks_cover_the_span_at_the_step_with_each_venues_interval():
    ticks = generate_scenario(
        4, ["hyperliquid", "paradex", "aster"], ["BTC", "SOL"], T0, 6, timedelta(minutes=30)
    )
    markets = by_market(ticks)
    assert len(markets) == 6 and all(len(m) == 13 for m in markets.values())
    assert [t.ts for t in markets[("paradex", "BTC")]][:3] == [
        T0,
        T0 + timedelta(minutes=30),
        T0 + timedelta(hours=1),
    ]
    assert {t.interval_hours for t in markets[("hyperliquid", "BTC")]} == {1}
    assert {t.interval_hours for t in markets[("paradex", "SOL")]} == {8}
    assert {t.interval_hours for t in markets[("aster", "SOL")]} == {4}
    assert {t.interval_hours for t in markets[("aster", "BTC")]} == {8}
    assert all(t.mark_price % symbol_spec(t.symbol).tick_size == 0 for t in ticks)
    assert [t.ts for t in ticks] == sorted(t.ts for t in ticks)


def test_prices_share_one_path_with_a_small_basis_per_venue():
    ticks = generate_scenario(5, list(VENUES), ["BTC"], T0, hours=48)
    at_each_time = {}
    for tick in ticks:
        at_each_time.setdefault(tick.ts, []).append(tick.mark_price)
    for marks in at_each_time.values():
        assert (max(marks) - min(marks)) / min(marks) < D("0.003")  # within 30 bp
    first, last = ticks[0].mark_price, ticks[-1].mark_price
    assert first != last  # the underlying moves


def test_funding_is_realistic_and_some_venues_diverge_persistently():
    ticks = generate_scenario(6, list(VENUES), ["ETH"], T0, hours=24 * 14)
    hourly = {
        venue: mean(float(t.funding_rate / t.interval_hours) for t in market)
        for (venue, _), market in by_market(ticks).items()
    }
    assert all(-0.0001 < rate < 0.0001 for rate in hourly.values())  # under 88 % APR
    spread_apr = (max(hourly.values()) - min(hourly.values())) * 24 * 365
    assert spread_apr > 0.10  # at least 10 % APR between the extremes, over two weeks
    daily = {}
    for tick in ticks:
        if tick.venue in ("extended", "aster"):
            daily.setdefault((tick.venue, tick.ts.date()), []).append(
                float(tick.funding_rate / tick.interval_hours)
            )
    days = sorted({day for _, day in daily})
    persistent = sum(mean(daily["extended", d]) > mean(daily["aster", d]) for d in days)
    assert persistent >= len(days) - 1  # the divergence holds day after day


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"venues": []}, "at least one venue"),
        ({"hours": 0}, "hours must be positive"),
        ({"step": timedelta(0)}, "step must be at least one second"),
        ({"venues": ["nowhere"]}, "unknown venue 'nowhere'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {"venues": ["hyperliquid"], "symbols": ["BTC"], "start": T0, "hours": 1}
    arguments.update(kwargs)
    with pytest.raises(Exception, match=message):
        generate_scenario(0, **arguments)


def test_csv_round_trip(tmp_path):
    ticks = generate_scenario(7, ["backpack", "grvt"], ["ETH"], T0, hours=3)
    path = tmp_path / "scenario.csv"
    write_csv(path, ticks)
    assert path.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    assert load_csv(path) == ticks


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hyperliquid,BTC,2026-01-01T00:00:00+00:00,abc,0.0001,1", "line 3: column mark_price"),
        ("hyperliquid,BTC,2026-01-01T00:00:00,60000,0.0001,1", "line 3: timestamp .* no UTC"),
        ("hyperliquid,BTC,yesterday,60000,0.0001,1", "line 3: column timestamp"),
        ("hyperliquid,BTC,2026-01-01T00:00:00Z,60000,0.0001,5", "line 3: interval_hours"),
        ("hyperliquid,BTC,2026-01-01T00:00:00Z,-1,0.0001,1", "line 3: mark_price must be positive"),
        ("hyperliquid,BTC,2026-01-01T00:00:00Z,60000,0.0001", "line 3: expected 6 columns"),
        ("hyperliquid,BTC,2026-01-01T00:00:00Z,60000,0.0001,1,extra", "line 3: expected 6"),
    ],
)
def test_a_bad_csv_line_is_named(tmp_path, line, message):
    path = tmp_path / "bad.csv"
    good = "hyperliquid,BTC,2025-12-31T23:00:00+00:00,60000,0.0001,1"
    path.write_text("\n".join([",".join(CSV_COLUMNS), good, line]) + "\n")
    with pytest.raises(ScenarioFormatError, match=message):
        load_csv(path)


def test_a_bad_header_or_missing_file_is_named(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("venue,symbol,time,mark,rate,interval\n")
    with pytest.raises(ScenarioFormatError, match="header must be venue,symbol,timestamp"):
        load_csv(path)
    with pytest.raises(ScenarioFormatError, match=r"missing\.csv: cannot read"):
        load_csv(tmp_path / "missing.csv")

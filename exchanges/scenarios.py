"""Market scenarios for paper venues: generated from a seed, or replayed from CSV.

A scenario is a list of ticks (venue, symbol, time -> mark price, funding rate per interval,
interval hours), stored in `paper_market_ticks` so that every process reads the same market.

Generation: one underlying price path per symbol (geometric Brownian motion), each venue's
mark a small, persistent basis away from it; funding per (venue, symbol) is an
Ornstein-Uhlenbeck process on the *hourly* rate, mean-reverting to a level that differs
persistently between venues (what funding arbitrage earns from), then quoted per the venue's
interval (1 h, 4 h or 8 h). Each (symbol) and (venue, symbol) stream has its own generator
seeded from the scenario seed, so adding a venue does not change the others.

CSV format (header required, one tick per line; extra columns are refused):

    venue,symbol,timestamp,mark_price,funding_rate,interval_hours
    hyperliquid,BTC,2026-01-01T00:00:00+00:00,60000.0,0.0000125,1

`timestamp` is ISO 8601 with a UTC offset; `funding_rate` is per interval (positive: longs
pay shorts); `interval_hours` a whole divisor of 24.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.clock import ensure_utc
from core.errors import ConfigError
from core.money import round_to, to_decimal
from db.models.paper import PaperMarketTick
from exchanges.simulation.market import Tick
from exchanges.venues import check_interval_hours, symbol_spec, venue_profile

CSV_COLUMNS = ("venue", "symbol", "timestamp", "mark_price", "funding_rate", "interval_hours")
START_PRICES = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0}
ANNUAL_VOLATILITY = {"BTC": 0.55, "ETH": 0.70, "SOL": 0.90}
# Alts pay more funding than BTC on every venue.
FUNDING_LEVEL_FACTOR = {"BTC": 1.0, "ETH": 1.15, "SOL": 1.5}
MEAN_REVERSION_PER_HOUR = 0.15  # half-life about 4.6 h
BASIS_BPS = 3.0  # persistent per-venue basis, standard deviation
BASIS_NOISE_BPS = 0.8
MAX_HOURLY_RATE = 0.0005
RATE_QUANTUM = Decimal("1e-10")
_SECONDS_PER_YEAR = 365 * 24 * 3600.0


class ScenarioFormatError(ConfigError):
    """A scenario file or argument is invalid; the message names the line and column."""


def generate_scenario(
    seed: int,
    venues: Sequence[str],
    symbols: Sequence[str],
    start: datetime,
    hours: float,
    step: timedelta = timedelta(hours=1),
) -> list[Tick]:
    """Ticks every `step` from `start` for `hours`, for every (venue, symbol), in time order."""
    start = ensure_utc(start)
    if not venues or not symbols:
        raise ScenarioFormatError("a scenario needs at least one venue and one symbol")
    if hours <= 0:
        raise ScenarioFormatError(f"scenario hours must be positive, got {hours}")
    if step < timedelta(seconds=1):
        raise ScenarioFormatError(f"scenario step must be at least one second, got {step}")
    profiles = [venue_profile(v) for v in venues]
    count = int(hours * 3600 // step.total_seconds()) + 1
    times = [start + step * i for i in range(count)]
    paths = {s: _price_path(seed, s, count, step) for s in symbols}
    ticks: list[Tick] = []
    streams = []
    for profile in profiles:
        for symbol in symbols:
            streams.append((profile, symbol, _venue_stream(seed, profile.name, symbol, step)))
    for index, ts in enumerate(times):
        for profile, symbol, stream in streams:
            basis, hourly = next(stream)
            spec = symbol_spec(symbol)
            mark = round_to(Decimal(repr(paths[symbol][index] * (1 + basis))), spec.tick_size)
            interval = profile.interval_for(symbol)
            rate = (Decimal(repr(hourly)) * interval).quantize(RATE_QUANTUM)
            ticks.append(
                Tick(profile.name, symbol, ts, max(mark, spec.tick_size), rate, Decimal(interval))
            )
    return ticks


def _price_path(seed: int, symbol: str, count: int, step: timedelta) -> list[float]:
    rng = random.Random(f"{seed}|price|{symbol}")  # noqa: S311 - simulation, not secrets
    sigma = ANNUAL_VOLATILITY.get(symbol, 1.0)
    dt = step.total_seconds() / _SECONDS_PER_YEAR
    price = START_PRICES.get(symbol, 10.0)
    path = [price]
    for _ in range(count - 1):
        price *= math.exp(-0.5 * sigma * sigma * dt + sigma * math.sqrt(dt) * rng.gauss(0, 1))
        path.append(price)
    return path


def _venue_stream(
    seed: int, venue: str, symbol: str, step: timedelta
) -> Iterator[tuple[float, float]]:
    """Endless (basis, hourly funding rate) pairs for one venue market."""
    rng = random.Random(f"{seed}|venue|{venue}|{symbol}")  # noqa: S311 - simulation, not secrets
    typical = float(venue_profile(venue).typical_hourly_funding)
    level = typical * FUNDING_LEVEL_FACTOR.get(symbol, 2.0) * (1 + rng.gauss(0, 0.15))
    basis = rng.gauss(0, BASIS_BPS) / 10_000
    dt_hours = step.total_seconds() / 3600
    theta = MEAN_REVERSION_PER_HOUR
    # Stationary standard deviation of about 60 % of the typical level.
    sigma = 0.6 * typical * math.sqrt(2 * theta)
    hourly = level
    while True:
        noise = rng.gauss(0, BASIS_NOISE_BPS) / 10_000
        yield basis + noise, max(-MAX_HOURLY_RATE, min(MAX_HOURLY_RATE, hourly))
        hourly += theta * (level - hourly) * dt_hours + sigma * math.sqrt(dt_hours) * rng.gauss(
            0, 1
        )


def check_tick(tick: Tick, where: str) -> None:
    if tick.ts.tzinfo is None or tick.ts.utcoffset() is None:
        raise ScenarioFormatError(f"{where}: timestamp {tick.ts} has no UTC offset")
    if tick.mark_price <= 0:
        raise ScenarioFormatError(f"{where}: mark_price must be positive, got {tick.mark_price}")
    try:
        check_interval_hours(tick.interval_hours, f"{where}: interval_hours")
    except ValueError as exc:
        raise ScenarioFormatError(str(exc)) from None
    if not tick.venue or not tick.symbol:
        raise ScenarioFormatError(f"{where}: venue and symbol must not be empty")


def store_ticks(engine: Engine, ticks: Sequence[Tick], chunk: int = 5_000) -> int:
    """Insert ticks in bulk (a tick already stored is kept); returns how many were new.

    Every tick is checked before anything is written, so a bad one writes nothing.
    """
    for index, tick in enumerate(ticks):
        check_tick(tick, f"tick {index} ({tick.venue} {tick.symbol} {tick.ts})")
    inserted = 0
    with Session(engine) as session, session.begin():
        for begin in range(0, len(ticks), chunk):
            rows = [
                {
                    "venue": t.venue,
                    "symbol": t.symbol,
                    "ts": t.ts,
                    "mark_price": t.mark_price,
                    "funding_rate": t.funding_rate,
                    "interval_hours": t.interval_hours,
                }
                for t in ticks[begin : begin + chunk]
            ]
            result = session.execute(
                insert(PaperMarketTick)
                .on_conflict_do_nothing(index_elements=["venue", "symbol", "ts"])
                .returning(PaperMarketTick.ts),
                rows,
            )
            inserted += len(result.all())
    return inserted


def write_csv(path: Path, ticks: Iterable[Tick]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for t in ticks:
            writer.writerow(
                [
                    t.venue,
                    t.symbol,
                    t.ts.isoformat(),
                    t.mark_price,
                    t.funding_rate,
                    t.interval_hours,
                ]
            )


def load_csv(path: Path) -> list[Tick]:
    """Read a scenario CSV; any bad line raises `ScenarioFormatError` naming line and column."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ScenarioFormatError(f"{path}: cannot read scenario ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ScenarioFormatError(
                f"{path}: header must be {','.join(CSV_COLUMNS)}, got {reader.fieldnames}"
            )
        ticks = []
        for row in reader:
            where = f"{path} line {reader.line_num}"
            if None in row or any(row[c] is None for c in CSV_COLUMNS):
                raise ScenarioFormatError(f"{where}: expected {len(CSV_COLUMNS)} columns")
            ticks.append(_parse_row(row, where))
    return ticks


def _parse_row(row: dict[str, str], where: str) -> Tick:
    def number(column: str) -> Decimal:
        try:
            return to_decimal(row[column], f"{where}: column {column}")
        except ValueError as exc:
            raise ScenarioFormatError(str(exc)) from None

    try:
        ts = datetime.fromisoformat(row["timestamp"].strip())
    except ValueError:
        raise ScenarioFormatError(
            f"{where}: column timestamp: {row['timestamp']!r} is not ISO 8601"
        ) from None
    tick = Tick(
        row["venue"].strip(),
        row["symbol"].strip(),
        ts,
        number("mark_price"),
        number("funding_rate"),
        number("interval_hours"),
    )
    check_tick(tick, where)
    return Tick(
        tick.venue,
        tick.symbol,
        ensure_utc(ts),
        tick.mark_price,
        tick.funding_rate,
        tick.interval_hours,
    )


def replay_csv(engine: Engine, path: Path) -> int:
    """Load a scenario CSV into the database; returns the number of new ticks."""
    return store_ticks(engine, load_csv(path))

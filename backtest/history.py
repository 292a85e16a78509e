"""Funding history as simulated markets: one `HistoryMarket` per venue, and the price proxy.

The rows are the validated realised settlements `data import` reads (`load_history`): a
settlement is known from its time on (the end of its accrual window) and is paid then, on
the mark in force. Per venue the backtest trades one margin asset (the venue's USDT-margined
perpetuals where it lists them, else USDC; `margin` overrides), since USDT- and USDC-margined
perpetuals are different instruments that one account does not net.

Prices. The shared data carries a mark price only for Binance, only at its settlements
(every 8 h). A venue without marks for a symbol gets the **proxy**: one venue's marks (the
first of `PROXY_ORDER` that has them) used for every venue of that symbol, so both legs of
a pair see one price and a hedge shows no false basis. Marks are linearly interpolated to
every hour between two known marks. Interpolation uses the next known mark (at most one
settlement interval ahead): it only sizes quantities and values funding, it never feeds a
rate decision, and `price_proxy` states it in every report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from core.clock import Clock
from core.errors import ConfigError
from core.market import FundingKind, FundingRate
from exchanges.simulation.history_market import HistoryMarket, LazyDecimals, SymbolHistory
from funding_service.history.batch import US_PER_HOUR, SettlementBatch, to_micros
from funding_service.history.importer import load_history
from funding_service.history.mapping import ColumnMapping
from funding_service.history.validate import HistoryRowError
from funding_service.history.window import select

PROXY_ORDER = ("binance", "bybit", "hyperliquid")
PREFERRED_MARGIN = ("USDT", "USDC")
# Settlements this long before the start are loaded too, so an 8-hourly venue has a known
# rate when the run begins (what a live bot would have read before it started).
LOOKBACK = timedelta(days=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTERVALS = {Decimal(h): timedelta(hours=h) for h in (1, 2, 3, 4, 6, 8, 12, 24)}


@dataclass(frozen=True)
class BacktestData:
    """What a run replays: the markets, the rows they came from, and how prices were made."""

    path: Path
    start: datetime
    end: datetime
    markets: dict[str, HistoryMarket]
    margin_assets: dict[str, str]  # venue -> the margin asset traded there
    price_proxy: str | None  # None: every venue had its own marks
    batch: SettlementBatch  # the rows used, for the spread-persistence figures
    symbols: tuple[str, ...]

    def quotes(self, venue: str, after: datetime, until: datetime) -> list[FundingRate]:
        """What the funding collector would have stored for `venue` in `(after, until]`,
        oldest first: each settlement, from its settlement time on, as the quote for the
        next interval (the history holds realised rates only; the last one paid stands for
        the next)."""
        events = self.markets[venue].window([], after, until).funding
        asset = self.margin_assets[venue]
        interval = _INTERVALS
        return [
            FundingRate(
                venue=venue,
                symbol=e.symbol,
                rate=e.rate,
                interval_hours=e.interval_hours,
                next_funding_time=e.funding_time + interval[e.interval_hours],
                mark_price=e.mark_price,
                timestamp=e.funding_time,
                margin_asset=asset,
                kind=FundingKind.PREDICTED,
            )
            for e in events
        ]


def load_data(
    path: Path,
    venues: list[str],
    symbols: list[str],
    start: datetime,
    end: datetime,
    clock: Clock,
    margin: dict[str, str] | None = None,
    skipped: list[HistoryRowError] | None = None,
) -> BacktestData:
    """The history under `path` for `venues` and `symbols` from `start` to `end` (UTC).

    A bad row stops the load with its file, row and column, unless `skipped` is given: then
    bad rows are left out and their errors appended to it (`--skip-invalid`)."""
    if start >= end:
        raise ConfigError(f"--from {start:%Y-%m-%d} must be before --to {end:%Y-%m-%d}")
    batch = load_history(path, ColumnMapping(), clock, skipped)
    batch = select(batch, start - LOOKBACK, end, venues, symbols)
    chosen: dict[str, str] = {}
    keep = np.zeros(len(batch), dtype=bool)
    for venue in venues:
        on_venue = batch.venue == venue
        assets = sorted(set(batch.margin_asset[on_venue]))
        if not assets:
            raise ConfigError(
                f"{path}: no settlements for venue {venue!r} of {', '.join(symbols)} "
                f"between {start:%Y-%m-%d} and {end:%Y-%m-%d}"
            )
        asset = _margin_for(venue, assets, (margin or {}).get(venue))
        chosen[venue] = asset
        keep |= on_venue & (batch.margin_asset == asset)
    batch = batch.subset(keep)
    marks, proxy = _marks(batch, venues, symbols, chosen, start, end)
    markets = {
        venue: HistoryMarket(
            venue, _histories(marks[venue], batch.subset(batch.venue == venue), symbols)
        )
        for venue in venues
    }
    return BacktestData(path, start, end, markets, chosen, proxy, batch, tuple(symbols))


def _margin_for(venue: str, assets: list[str], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in assets:
            raise ConfigError(
                f"venue {venue!r} has no {wanted}-margined history (it has {', '.join(assets)})"
            )
        return wanted
    for asset in PREFERRED_MARGIN:
        if asset in assets:
            return asset
    return assets[0]


Marks = dict[str, tuple[np.ndarray, LazyDecimals]]  # symbol -> (hours in µs, marks)


def _mark(value: object) -> Decimal:
    return Decimal(f"{value:.10g}")


def _text(value: object) -> Decimal:
    return Decimal(str(value))


def _double(value: object) -> Decimal:
    return Decimal(repr(float(value)))  # type: ignore[arg-type]  # a float64 from the batch


def _histories(marks: Marks, batch: SettlementBatch, symbols: list[str]) -> list[SymbolHistory]:
    """Each symbol's marks and settlements as columns; Decimals are made when read."""
    found = []
    for symbol in symbols:
        rows = np.flatnonzero(batch.symbol == symbol)
        rows = rows[np.argsort(batch.settled_us[rows], kind="stable")]
        raw = batch.rate[rows] if batch.rate_text is None else batch.rate_text[rows]
        rates = LazyDecimals(raw, _double if batch.rate_text is None else _text)
        mark_us, mark_values = marks.get(symbol, (np.zeros(0, dtype=np.int64), None))
        found.append(
            SymbolHistory(
                symbol,
                mark_us,
                mark_values if mark_values is not None else [],
                batch.settled_us[rows],
                rates,
                batch.interval_hours[rows].astype(np.int64),
            )
        )
    return found


def _marks(
    batch: SettlementBatch,
    venues: list[str],
    symbols: list[str],
    margin: dict[str, str],
    start: datetime,
    end: datetime,
) -> tuple[dict[str, Marks], str | None]:
    """Hourly marks per venue, and the proxy statement (None when no proxy was needed)."""
    has_marks = ~np.isnan(batch.mark_price)
    by_venue: dict[str, Marks] = {venue: {} for venue in venues}
    proxied: dict[str, str] = {}  # symbol -> the venue whose marks every venue uses
    on_venue = {venue: has_marks & (batch.venue == venue) for venue in venues}
    for symbol in symbols:
        of_symbol = batch.symbol == symbol
        rows_of = {venue: on_venue[venue] & of_symbol for venue in venues}
        own = {venue: bool(np.any(rows)) for venue, rows in rows_of.items()}
        if all(own.values()):
            for venue in venues:
                by_venue[venue][symbol] = _hourly(batch, rows_of[venue], symbol, start, end)
            continue
        source = next((v for v in (*PROXY_ORDER, *venues) if own.get(v)), None)
        if source is None:
            raise ConfigError(
                f"no price for {symbol} on any of {', '.join(venues)} in the data: the "
                "backtest needs a mark_price column for at least one venue"
            )
        rows = has_marks & (batch.venue == source) & of_symbol
        points = _hourly(batch, rows, symbol, start, end)
        for venue in venues:  # one price for every leg: a hedge shows no false basis
            by_venue[venue][symbol] = points
        proxied[symbol] = source
    if not proxied:
        return by_venue, None
    sources = sorted(set(proxied.values()))
    without = sorted({v for v in venues if v not in sources})
    return by_venue, (
        f"{' and '.join(sources)} mark_price ({', '.join(f'{s}-{margin[s]}' for s in sources)}) "
        f"for every venue of {', '.join(sorted(proxied))}: the data has no price for "
        f"{', '.join(without) or 'some venues'}; known at {sources[0]}'s settlements and "
        "linearly interpolated to each hour"
    )


def _hourly(
    batch: SettlementBatch, rows: np.ndarray, symbol: str, start: datetime, end: datetime
) -> tuple[np.ndarray, LazyDecimals]:
    """The marks of `rows` interpolated onto every whole hour in [start, end] they span."""
    times = batch.settled_us[rows]
    order = np.argsort(times, kind="stable")
    times, prices = times[order], batch.mark_price[rows][order]
    if len(times) == 0:
        return np.zeros(0, dtype=np.int64), LazyDecimals([], _mark)
    if not bool(np.all(prices > 0)):
        bad = int(np.argmax(~(prices > 0)))
        raise ConfigError(
            f"{symbol} at {EPOCH + timedelta(microseconds=int(times[bad]))}: mark must be positive"
        )
    first = max(_ceil_hour(int(times[0])), _ceil_hour(to_micros(start - LOOKBACK)))
    last = min(int(times[-1]), to_micros(end))
    hours = np.arange(first, last + 1, US_PER_HOUR, dtype=np.int64)
    values = np.interp(hours.astype(np.float64), times.astype(np.float64), prices)
    return hours, LazyDecimals(values.tolist(), _mark)


def _ceil_hour(micros: int) -> int:
    return -(-micros // US_PER_HOUR) * US_PER_HOUR

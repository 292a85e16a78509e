"""Vectorised pre-screen of realised funding history: how often, and for how long, a pair's
spread would have paid.

For one base symbol and two instruments on different venues (a leg is venue + margin asset,
so Binance BTC-USDT and Binance BTC-USDC are two legs), going long on one and short on the
other earns, per hour, `spread = hourly_short - hourly_long`. Per ordered pair the screen
reports the hours both legs are known, the share of them whose spread beats the threshold,
and the runs of consecutive such hours (count, median, longest): spread persistence.

Hourly buckets, without look-ahead and without fill-forward. A settlement of rate r over an
interval of I hours, paid at T (the end of its window), is known from T on. Its hourly rate
r / I is placed on the I hourly buckets from the first full hour at or after T (a settlement
stamped less than a minute after the hour, as venues do, belongs to that hour), i.e. the
hours during which it is the latest rate anyone could know; the next settlement of the
series, when it comes earlier, takes over. It is never spread backwards over its own accrual
window (that would use a rate before it was paid), and never carried past its own I hours:
a missing settlement leaves its hours empty, an empty hour counts for neither leg, and it
ends a run. This is the view a strategy deciding at each hour has; what a position held
through a window earns is the backtest's business.

Threshold (hourly): the larger of the fee-implied one, `round-trip cost / horizon` (the
spread that pays the cost back within the horizon), and `--min-apr / 8760`. Everything is
float64 array arithmetic (it screens, it does not account money); no Python loop touches rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from funding_service.history.batch import US_PER_HOUR, SettlementBatch

HOURS_PER_YEAR = 24 * 365
# Venues stamp settlements a few milliseconds after the hour (Hyperliquid 05:00:00.032).
STAMP_TOLERANCE_US = 60_000_000


@dataclass(frozen=True, slots=True)
class ScreenParams:
    fees_bps: float = 22.0  # round trip: open and close, both legs, in bps of notional
    horizon_days: float = 7.0  # the fees are paid back within this holding time
    min_apr_pct: float = 0.0

    def __post_init__(self) -> None:
        if self.fees_bps < 0 or self.horizon_days <= 0 or self.min_apr_pct < 0:
            raise ValueError("fees and min APR must be >= 0 and the horizon > 0")

    @property
    def threshold_hourly(self) -> float:
        fee_implied = self.fees_bps / 10_000 / (self.horizon_days * 24)
        return max(fee_implied, self.min_apr_pct / 100 / HOURS_PER_YEAR)


@dataclass(frozen=True, slots=True)
class Leg:
    venue: str
    margin_asset: str

    def __str__(self) -> str:
        return f"{self.venue}/{self.margin_asset}"


@dataclass(frozen=True, slots=True)
class PairScreen:
    symbol: str
    long: Leg
    short: Leg
    hours: int  # hours with both legs known
    above: int  # of those, hours whose spread beats the threshold
    runs: int
    median_run_hours: float
    longest_run_hours: int
    mean_apr_above: float  # mean spread (APR) over the hours above the threshold

    @property
    def share(self) -> float:
        return self.above / self.hours if self.hours else 0.0


@dataclass(frozen=True)
class HourlyGrid:
    """One row per instrument, one column per hour from `start_hour` (hours since epoch)."""

    instruments: list[tuple[str, str, str]]  # (symbol, venue, margin asset)
    start_hour: int
    hourly: np.ndarray  # float64 [instrument, hour], NaN where no rate is known


def hourly_grid(batch: SettlementBatch) -> HourlyGrid:
    """Each settlement on the hours it is the latest known rate (see the module doc)."""
    if len(batch) == 0:
        return HourlyGrid([], 0, np.zeros((0, 0)))
    inst, instruments = _instrument_codes(batch)
    known = -((STAMP_TOLERANCE_US - batch.settled_us) // US_PER_HOUR)  # ceil(ts - tol)
    start = int(known.min())
    order = np.lexsort((known, inst))
    inst, known = inst[order], known[order]
    span = np.rint(batch.interval_hours[order]).astype(np.int64)
    hourly = batch.rate[order] / batch.interval_hours[order]
    end = known + span
    same_next = np.append(inst[1:] == inst[:-1], False)
    next_known = np.append(known[1:], 0)
    end = np.where(same_next, np.minimum(end, next_known), end)
    lengths = np.maximum(end - known, 0)
    hours = int(end.max()) - start
    total = int(lengths.sum())
    first_cell = inst * hours + (known - start)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    cells = np.repeat(first_cell, lengths) + (np.arange(total) - offsets)
    grid = np.full((len(instruments), hours), np.nan)
    grid.flat[cells] = np.repeat(hourly, lengths)
    return HourlyGrid(instruments, start, grid)


def _instrument_codes(batch: SettlementBatch) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Per row, the index of its (symbol, venue, margin) in the sorted list of them."""
    codes, names = [], []
    for column in (batch.symbol, batch.venue, batch.margin_asset):
        encoded = pc.dictionary_encode(pa.array(column, pa.string()))
        codes.append(encoded.indices.to_numpy().astype(np.int64))
        names.append(encoded.dictionary.to_pylist())
    combined = (codes[0] * len(names[1]) + codes[1]) * len(names[2]) + codes[2]
    present, inst = np.unique(combined, return_inverse=True)
    instruments = []
    for code in present:
        rest, margin = divmod(int(code), len(names[2]))
        symbol, venue = divmod(rest, len(names[1]))
        instruments.append((names[0][symbol], names[1][venue], names[2][margin]))
    order = sorted(range(len(instruments)), key=instruments.__getitem__)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank[inst], [instruments[k] for k in order]


def screen(batch: SettlementBatch, params: ScreenParams) -> list[PairScreen]:
    """Every ordered cross-venue pair of every symbol, best share first."""
    grid = hourly_grid(batch)
    long_idx, short_idx = _pairs(grid.instruments)
    if len(long_idx) == 0:
        return []
    spread = grid.hourly[short_idx] - grid.hourly[long_idx]
    known = ~np.isnan(spread)
    with np.errstate(invalid="ignore"):
        above = spread > params.threshold_hourly
    hours, above_count = known.sum(axis=1), above.sum(axis=1)
    runs, median, longest = _runs(above)
    spread_above = np.where(above, spread, 0.0).sum(axis=1)
    mean_above = np.divide(
        spread_above, above_count, out=np.zeros(len(hours)), where=above_count > 0
    )
    results = []
    for p in range(len(long_idx)):
        symbol, long_venue, long_margin = grid.instruments[long_idx[p]]
        _, short_venue, short_margin = grid.instruments[short_idx[p]]
        results.append(
            PairScreen(
                symbol=symbol,
                long=Leg(long_venue, long_margin),
                short=Leg(short_venue, short_margin),
                hours=int(hours[p]),
                above=int(above_count[p]),
                runs=int(runs[p]),
                median_run_hours=float(median[p]),
                longest_run_hours=int(longest[p]),
                mean_apr_above=float(mean_above[p] * HOURS_PER_YEAR),
            )
        )
    results.sort(key=lambda r: (-r.share, -r.longest_run_hours, r.symbol, str(r.long)))
    return results


def _pairs(instruments: list[tuple[str, str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """(long, short) instrument indices of every ordered pair: same symbol, other venue."""
    symbols = np.array([s for s, _, _ in instruments])
    venues = np.array([v for _, v, _ in instruments])
    if len(instruments) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    same_symbol = symbols[:, None] == symbols[None, :]
    other_venue = venues[:, None] != venues[None, :]
    long_idx, short_idx = np.nonzero(same_symbol & other_venue)
    return long_idx, short_idx


def _runs(above: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a boolean [pair, hour] array: number, median and longest run of trues."""
    pairs = above.shape[0]
    padded = np.zeros((pairs, above.shape[1] + 2), np.int8)
    padded[:, 1:-1] = above
    step = np.diff(padded, axis=1)
    start_p, start_t = np.nonzero(step == 1)
    _, end_t = np.nonzero(step == -1)  # row-major: ends line up with their starts
    lengths = end_t - start_t
    runs = np.bincount(start_p, minlength=pairs)
    longest = np.zeros(pairs, np.int64)
    np.maximum.at(longest, start_p, lengths)
    median = np.zeros(pairs)
    order = np.lexsort((lengths, start_p))
    ordered = lengths[order]
    first = np.cumsum(runs) - runs
    has = runs > 0
    lo = first[has] + (runs[has] - 1) // 2
    hi = first[has] + runs[has] // 2
    median[has] = (ordered[lo] + ordered[hi]) / 2
    return runs, median, longest

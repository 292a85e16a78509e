"""`HistoryMarket`: a venue's real history (marks and settlements) as a `MarketSource`.

The meaning is `SeriesMarket.from_history`'s (which builds one of these): a settled rate is
known from its settlement time on, so a tick quotes the last rate settled at or before it
(no look-ahead); there is a tick at every mark and every settlement once a market has both
a mark and a settlement; a settlement is paid on the mark in force at its time, and one
before any mark is dropped.

What differs is when the work is done. A year of 18 symbols is about half a million marks
per venue set, and a run reads only the ticks of the symbols it holds and the latest tick of
the ones it quotes, so the series are held as columns (integer microseconds, raw values)
and a `Tick`, `FundingEvent` or `Decimal` is made the first time it is read, then kept. The
tick times, their marks and their rates are found for all ticks at once with array
searches when the market is built; values are held to the 18 decimal places PostgreSQL
stores, so a run computes on the same numbers as with every tick built up front.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

import numpy as np

from core.clock import ensure_utc
from core.market import TopOfBook
from exchanges.simulation.margin import money
from exchanges.simulation.market import FundingEvent, MarketWindow, Tick
from exchanges.venues import SymbolSpec, check_interval_hours, symbol_spec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """A timezone-aware time as integer microseconds since the epoch (exact)."""
    return (moment - EPOCH) // _ONE_US


def at_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class MarkPoint:
    """A venue market's mark price from `at` on."""

    symbol: str
    at: datetime
    mark: Decimal


@dataclass(frozen=True, slots=True)
class SettledRate:
    """A funding settlement as the venue paid it: at `funding_time`, the end of its window."""

    symbol: str
    funding_time: datetime
    rate: Decimal  # per interval; positive: longs pay shorts
    interval_hours: Decimal


class DecimalColumn(Protocol):
    """Decimals read by index (a list, or a `LazyDecimals`)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> Decimal: ...


class LazyDecimals:
    """A column of Decimals (18 places) parsed from raw values on first read, then kept."""

    def __init__(
        self, raw: Sequence[object] | np.ndarray, parse: Callable[[object], Decimal]
    ) -> None:
        self._raw = raw
        self._parse = parse
        self._made: dict[int, Decimal] = {}

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, index: int) -> Decimal:
        value = self._made.get(index)
        if value is None:
            value = self._made[index] = money(self._parse(self._raw[index]))
        return value


@dataclass(frozen=True)
class SymbolHistory:
    """One market's history: marks in time order and settlements in time order.

    `marks` and `rates` are read by index (a `LazyDecimals` or a list of Decimals);
    `interval_hours` is whole hours per settlement."""

    symbol: str
    mark_us: np.ndarray  # int64, sorted
    marks: DecimalColumn
    settled_us: np.ndarray  # int64, sorted
    rates: DecimalColumn  # per interval; positive: longs pay shorts
    interval_hours: np.ndarray  # int64


class _Series:
    """One symbol's ticks, as indices into its history, and the ticks made so far."""

    def __init__(self, venue: str, history: SymbolHistory, moments: dict[int, datetime]) -> None:
        self.venue = venue
        self.history = history
        self.moments = moments  # shared by the market's series: one datetime per instant
        times = np.union1d(history.mark_us, history.settled_us)
        if len(history.mark_us) and len(history.settled_us):
            opens = max(int(history.mark_us[0]), int(history.settled_us[0]))
            times = times[times >= opens]
        else:
            times = times[:0]
        # Python lists, not arrays: they are read one item at a time.
        self.mark_of: list[int] = (
            np.searchsorted(history.mark_us, times, side="right") - 1
        ).tolist()
        self.rate_of: list[int] = (
            np.searchsorted(history.settled_us, times, side="right") - 1
        ).tolist()
        self.intervals: list[int] = history.interval_hours.tolist()
        self.times: list[int] = times.tolist()
        self._ticks: dict[int, Tick] = {}
        self._hours = {h: Decimal(h) for h in set(history.interval_hours.tolist())}

    def tick(self, index: int) -> Tick:
        found = self._ticks.get(index)
        if found is None:
            history, rate = self.history, self.rate_of[index]
            found = self._ticks[index] = Tick(
                self.venue,
                history.symbol,
                self.moment(self.times[index]),
                history.marks[self.mark_of[index]],
                history.rates[rate],
                self._hours[self.intervals[rate]],
            )
        return found

    def moment(self, value: int) -> datetime:
        found = self.moments.get(value)
        if found is None:
            found = self.moments[value] = at_micros(value)
        return found

    def hours(self, settlement: int) -> Decimal:
        return self._hours[self.intervals[settlement]]


class HistoryMarket:
    """One venue's real history, in memory (a `MarketSource`)."""

    def __init__(
        self,
        venue: str,
        histories: Sequence[SymbolHistory],
        specs: Mapping[str, SymbolSpec] | None = None,
    ) -> None:
        self.venue = venue
        self._specs = dict(specs or {})
        self._series: dict[str, _Series] = {}
        moments: dict[int, datetime] = {}
        for history in histories:
            _check(venue, history)
            self._series[history.symbol] = _Series(venue, history, moments)
        self._listed = sorted(s for s, series in self._series.items() if series.times)
        self._build_funding()

    @classmethod
    def from_points(
        cls,
        venue: str,
        marks: Iterable[MarkPoint],
        settlements: Iterable[SettledRate],
        specs: Mapping[str, SymbolSpec] | None = None,
    ) -> HistoryMarket:
        """From row objects (tests, small inputs): each symbol's marks and settlements."""
        mark_rows: dict[str, list[tuple[int, Decimal]]] = {}
        for point in marks:
            if point.mark <= 0:
                raise ValueError(f"{point.symbol} at {point.at}: mark must be positive")
            mark_rows.setdefault(point.symbol, []).append(
                (micros(ensure_utc(point.at)), money(point.mark))
            )
        settled: dict[str, list[tuple[int, Decimal, int]]] = {}
        for row in settlements:
            hours = check_interval_hours(row.interval_hours, f"{row.symbol} interval_hours")
            settled.setdefault(row.symbol, []).append(
                (micros(ensure_utc(row.funding_time)), money(row.rate), hours)
            )
        histories = []
        for symbol in sorted(set(mark_rows) | set(settled)):
            points = sorted(mark_rows.get(symbol, []), key=lambda p: p[0])
            rows = sorted(settled.get(symbol, []), key=lambda r: r[0])
            histories.append(
                SymbolHistory(
                    symbol,
                    np.array([p[0] for p in points], dtype=np.int64),
                    [p[1] for p in points],
                    np.array([r[0] for r in rows], dtype=np.int64),
                    [r[1] for r in rows],
                    np.array([r[2] for r in rows], dtype=np.int64),
                )
            )
        return cls(venue, histories, specs)

    def _build_funding(self) -> None:
        """Every settlement with a mark in force, in (time, symbol) order, as indices."""
        times, symbols, settlements, marks = [], [], [], []
        names = sorted(self._series)
        for code, name in enumerate(names):
            history = self._series[name].history
            mark = np.searchsorted(history.mark_us, history.settled_us, side="right") - 1
            paid = mark >= 0  # before any mark there is no price to pay it on
            times.append(history.settled_us[paid])
            symbols.append(np.full(int(paid.sum()), code, dtype=np.int64))
            settlements.append(np.flatnonzero(paid))
            marks.append(mark[paid])
        self._names = names
        if not names:
            self._event_us: list[int] = []
            self._event_rows: list[tuple[int, int, int]] = []
        else:
            all_times = np.concatenate(times)
            order = np.lexsort((np.concatenate(symbols), all_times))
            self._event_us = all_times[order].tolist()
            columns = [np.concatenate(c)[order].tolist() for c in (symbols, settlements, marks)]
            self._event_rows = list(zip(*columns, strict=True))
        self._events: dict[int, FundingEvent] = {}

    def _event(self, index: int) -> FundingEvent:
        found = self._events.get(index)
        if found is None:
            code, settlement, mark = self._event_rows[index]
            series = self._series[self._names[code]]
            history = series.history
            found = self._events[index] = FundingEvent(
                history.symbol,
                series.moment(self._event_us[index]),
                history.rates[settlement],
                series.hours(settlement),
                history.marks[mark],
            )
        return found

    # ---------------------------------------------------------------- MarketSource

    def symbols(self) -> Sequence[str]:
        return list(self._listed)

    def latest(self, symbols: Sequence[str], at: datetime) -> dict[str, Tick]:
        moment = micros(at)
        found = {}
        for symbol in symbols:
            series = self._series.get(symbol)
            if series is not None:
                index = bisect_right(series.times, moment)
                if index:
                    found[symbol] = series.tick(index - 1)
        return found

    def window(self, symbols: Sequence[str], after: datetime, until: datetime) -> MarketWindow:
        begin_us, end_us = micros(after), micros(until)
        ticks: list[Tick] = []
        for symbol in set(symbols):
            series = self._series.get(symbol)
            if series is None:
                continue
            begin = bisect_right(series.times, begin_us)
            end = bisect_right(series.times, end_us)
            ticks += [series.tick(i) for i in range(begin, end)]
        ticks.sort(key=lambda t: (t.ts, t.symbol))
        begin = bisect_right(self._event_us, begin_us)
        end = bisect_right(self._event_us, end_us)
        return MarketWindow(ticks, [self._event(i) for i in range(begin, end)])

    def book(self, symbol: str) -> TopOfBook | None:
        return None  # modelled from the mark

    def spec(self, symbol: str) -> SymbolSpec:
        return self._specs.get(symbol) or symbol_spec(symbol)


def _check(venue: str, history: SymbolHistory) -> None:
    """Sorted times, one value per time, whole-hour intervals (the marks' sign is the
    builder's to check: it sees the raw values)."""
    what = f"{venue} {history.symbol}"
    for name, times, values in (
        ("marks", history.mark_us, history.marks),
        ("settlements", history.settled_us, history.rates),
    ):
        if len(times) != len(values):
            raise ValueError(f"{what}: {len(times)} {name} times for {len(values)} values")
        if len(times) > 1 and not bool(np.all(np.diff(times) > 0)):
            raise ValueError(f"{what}: {name} must be in time order, one per time")
    if len(history.interval_hours) != len(history.settled_us):
        raise ValueError(f"{what}: one interval per settlement")
    for hours in set(history.interval_hours.tolist()):
        check_interval_hours(Decimal(hours), f"{what} interval_hours")

"""`SeriesMarket`: a venue's market data held in memory (backtests, the in-memory venue).

`SeriesMarket.from_ticks(venue, ticks)`: a scenario, with the same meaning as the scenario
in PostgreSQL — marks and quoted rates per tick, funding at each funding time of the tick in
force (the scenario calendar). The parity test feeds both venues this way; a dry-run tape
appends its observations (`record`). Real history (marks, and funding as the venue settled
it) is `exchanges.simulation.history_market.HistoryMarket`, which builds its ticks lazily.

Everything is parsed and sorted once, when the market is built; a window is two binary
searches into one time-ordered list of ticks and one of funding events, so a step of a
backtest costs what happened in it, never the length of the history. Values are held to
the 18 decimal places PostgreSQL stores, so both venues compute on the same numbers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from core.clock import ensure_utc
from core.market import TopOfBook
from exchanges.simulation.margin import money
from exchanges.simulation.market import FundingEvent, MarketWindow, Tick, funding_events
from exchanges.venues import SymbolSpec, check_interval_hours, symbol_spec

_JUST_BEFORE = timedelta(microseconds=1)
_time_and_symbol = attrgetter("ts", "symbol")


def _checked(tick: Tick, intervals: set[Decimal]) -> Tick:
    """The tick as stored: UTC, 18 decimal places; `intervals` are the ones already checked."""
    if tick.mark_price <= 0:
        raise ValueError(
            f"{tick.venue} {tick.symbol} at {tick.ts}: mark price must be positive, "
            f"got {tick.mark_price}"
        )
    if tick.interval_hours not in intervals:
        check_interval_hours(tick.interval_hours, f"{tick.venue} {tick.symbol} at {tick.ts}")
        intervals.add(tick.interval_hours)
    ts = tick.ts if tick.ts.tzinfo is UTC else ensure_utc(tick.ts)
    return Tick(
        tick.venue,
        tick.symbol,
        ts,
        money(tick.mark_price),
        money(tick.funding_rate),
        tick.interval_hours,
    )


class SeriesMarket:
    """One venue's ticks and funding events, in memory (a `MarketSource`)."""

    def __init__(
        self,
        venue: str,
        ticks: Iterable[Tick],
        funding: Iterable[FundingEvent] | None = None,
        specs: Mapping[str, SymbolSpec] | None = None,
    ) -> None:
        """`funding` None: funding follows the scenario calendar of the ticks."""
        self.venue = venue
        self._specs = dict(specs or {})
        self._ticks: list[Tick] = []
        self._tick_times: list[datetime] = []
        self._by_symbol: dict[str, list[Tick]] = {}
        self._symbol_times: dict[str, list[datetime]] = {}
        self._events: list[FundingEvent] = []
        self._event_times: list[datetime] = []
        # Calendar funding: events are listed up to the last tick; later ones repeat the last
        # tick of each symbol and are made per window.
        self._calendar = funding is None
        self.record(ticks)
        if funding is not None:
            events = sorted(funding, key=lambda e: (e.funding_time, e.symbol))
            self._events = events
            self._event_times = [e.funding_time for e in events]

    @classmethod
    def from_ticks(
        cls, venue: str, ticks: Iterable[Tick], specs: Mapping[str, SymbolSpec] | None = None
    ) -> SeriesMarket:
        return cls(venue, ticks, specs=specs)

    # ---------------------------------------------------------------- the tape

    def record(self, ticks: Iterable[Tick]) -> None:
        """Add ticks; a live tape (dry-run) appends each observation in time order."""
        intervals: set[Decimal] = set()
        added = sorted((_checked(t, intervals) for t in ticks), key=_time_and_symbol)
        if not added:
            return
        if self._ticks and added[0].ts < self._ticks[-1].ts:
            raise ValueError(
                f"{self.venue}: ticks must be added in time order ({added[0].ts} is before "
                f"{self._ticks[-1].ts})"
            )
        if self._calendar:
            self._extend_calendar(added)
        self._ticks += added
        self._tick_times += [t.ts for t in added]
        for tick in added:
            self._by_symbol.setdefault(tick.symbol, []).append(tick)
            self._symbol_times.setdefault(tick.symbol, []).append(tick.ts)

    def _extend_calendar(self, added: list[Tick]) -> None:
        """List the calendar's funding events up to the last of the `added` ticks."""
        if self._ticks:
            after = self._ticks[-1].ts
            prior = self.latest(sorted(self._by_symbol), after)
        else:  # the first ticks open the series: funding from the first one's time on
            after, prior = added[0].ts - _JUST_BEFORE, {}
        window: dict[str, list[Tick]] = {}
        for tick in added:
            window.setdefault(tick.symbol, []).append(tick)
        events = [
            event
            for symbol in sorted(set(self._by_symbol) | set(window))
            for event in funding_events(
                symbol, prior.get(symbol), window.get(symbol, []), after, added[-1].ts
            )
        ]
        events.sort(key=lambda e: (e.funding_time, e.symbol))
        self._events += events
        self._event_times += [e.funding_time for e in events]

    # ---------------------------------------------------------------- MarketSource

    def symbols(self) -> Sequence[str]:
        return sorted(self._by_symbol)

    def latest(self, symbols: Sequence[str], at: datetime) -> dict[str, Tick]:
        found = {}
        for symbol in symbols:
            times = self._symbol_times.get(symbol)
            if times:
                index = bisect_right(times, at)
                if index:
                    found[symbol] = self._by_symbol[symbol][index - 1]
        return found

    def window(self, symbols: Sequence[str], after: datetime, until: datetime) -> MarketWindow:
        wanted = set(symbols)
        ticks = []
        if wanted:
            begin = bisect_right(self._tick_times, after)
            end = bisect_right(self._tick_times, until)
            ticks = [t for t in self._ticks[begin:end] if t.symbol in wanted]
        begin = bisect_right(self._event_times, after)
        end = bisect_right(self._event_times, until)
        funding = self._events[begin:end]
        if self._calendar and self._ticks and until > self._ticks[-1].ts:
            funding = funding + self._calendar_tail(max(after, self._ticks[-1].ts), until)
        return MarketWindow(ticks, funding)

    def _calendar_tail(self, after: datetime, until: datetime) -> list[FundingEvent]:
        """Funding events after the last tick: every market stays at its last tick."""
        last = {symbol: ticks[-1] for symbol, ticks in self._by_symbol.items()}
        events = [
            event
            for symbol in sorted(last)
            for event in funding_events(symbol, last[symbol], [], after, until)
        ]
        events.sort(key=lambda e: (e.funding_time, e.symbol))
        return events

    def book(self, symbol: str) -> TopOfBook | None:
        return None  # modelled from the mark

    def spec(self, symbol: str) -> SymbolSpec:
        return self._specs.get(symbol) or symbol_spec(symbol)

"""Dry-run: the paper venue trading on a real venue's market data (`PERPBOT_MODE=dry-run`).

`LiveQuotes` reads funding rates, marks, books and instrument sizes from a real venue through
the port's read methods only (`MarketReader`: the ccxt adapter, built without credentials),
and keeps what it read for one call window (`refresh_seconds` of the clock). A read that
fails for now, or a book older than `max_age_seconds`, is a `TransientExchangeError` naming
the venue: nothing is priced on stale data.

Each fresh funding read of a symbol in play becomes a tick (time = the clock's now when it
was read; the venue's mark, or its book's mid where the venue quotes funding without one;
the rate and interval) appended to the venue's tape, `paper_market_ticks`, so the paper
model runs unchanged on it: resting limit orders fill when an observed mark crosses them,
positions are liquidated at an observed mark, and each funding time of the interval the
venue reports is settled once with the rate and mark observed last before it. `LiveMarket`
is the `MarketSource` the core then sees: ticks from the tape, the real book for fills, the
venue's instrument sizes (the paper venue's table where the venue's list is refused).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from core.clock import Clock
from core.market import FundingRate, Instrument, TopOfBook
from exchanges.base import (
    CapabilityNotSupportedError,
    MalformedResponseError,
    TransientExchangeError,
)
from exchanges.simulation.market import MarketSource, MarketWindow, Tick
from exchanges.venues import SYMBOL_SPECS, SymbolSpec, check_interval_hours

INSTRUMENTS_REFRESH_SECONDS = 3600.0
log = logging.getLogger(__name__)


class MarketReader(Protocol):
    """The read-only part of a venue client that dry-run uses (it never trades)."""

    name: str

    def instruments(self) -> Sequence[Instrument]: ...

    def funding_rates(self, symbols: Sequence[str] | None = None) -> Sequence[FundingRate]: ...

    def top_of_book(self, symbol: str) -> TopOfBook: ...


class LiveQuotes:
    """A real venue's market data, read at most once per call window per symbol."""

    def __init__(
        self,
        reader: MarketReader,
        clock: Clock,
        *,
        refresh_seconds: float = 5.0,
        max_age_seconds: float = 60.0,
    ) -> None:
        if refresh_seconds <= 0 or max_age_seconds < refresh_seconds:
            raise ValueError(
                f"dry-run needs 0 < refresh_seconds ({refresh_seconds}) <= max_age_seconds "
                f"({max_age_seconds})"
            )
        self.venue = reader.name
        self._reader = reader
        self._clock = clock
        self._refresh = refresh_seconds
        self._max_age = max_age_seconds
        # symbol -> (clock.monotonic() and clock.now() of the read, the rate read)
        self._rates: dict[str, tuple[float, datetime, FundingRate]] = {}
        self._recorded: dict[str, float] = {}  # symbol -> read time last made a tick
        self._books: dict[str, tuple[float, TopOfBook]] = {}
        self._instruments: tuple[float, dict[str, SymbolSpec]] | None = None
        self._watched: set[str] = set()

    def __repr__(self) -> str:
        return f"LiveQuotes({self.venue!r})"

    def watch(self, symbols: Iterable[str]) -> None:
        """Keep observing these symbols on every refresh (positions and resting orders)."""
        self._watched.update(symbols)

    def _fresh(self, read_at: float) -> bool:
        return self._clock.monotonic() - read_at < self._refresh

    def _unreadable(self, what: str, exc: TransientExchangeError) -> TransientExchangeError:
        """A read that failed for now. (Other typed errors of the adapter — a malformed
        answer, a capability the venue lacks — are not caught: they stand as raised.)"""
        return TransientExchangeError(
            self.venue, f"dry-run cannot read {what} from the venue, so nothing is priced: {exc}"
        )

    # ---------------------------------------------------------------- reads

    def _sizes(self) -> dict[str, SymbolSpec]:
        """Order sizes and leverage limit per symbol: the venue's, read once an hour; where
        the venue's instrument list is refused (not verified through ccxt), the paper
        venue's own table, said once in the log."""
        cached = self._instruments
        if cached is not None and self._clock.monotonic() - cached[0] < INSTRUMENTS_REFRESH_SECONDS:
            return cached[1]
        try:
            listed = {
                i.symbol: SymbolSpec(i.min_qty, i.qty_step, i.tick_size, i.max_leverage)
                for i in self._reader.instruments()
            }
        except TransientExchangeError as exc:
            raise self._unreadable("instruments", exc) from exc
        except CapabilityNotSupportedError as exc:
            log.warning("%s: dry-run sizes from the paper venue's table (%s)", self.venue, exc)
            listed = dict(SYMBOL_SPECS)
        self._instruments = (self._clock.monotonic(), listed)
        return listed

    def symbols(self) -> list[str]:
        return sorted(self._sizes())

    def spec(self, symbol: str) -> SymbolSpec:
        spec = self._sizes().get(symbol)
        if spec is None:
            raise CapabilityNotSupportedError(self.venue, f"dry-run: the venue lists no {symbol}")
        return spec

    def _read_rates(self, symbols: Sequence[str]) -> None:
        """Read the rates of `symbols` whose last read is older than the call window."""
        stale = [s for s in symbols if s not in self._rates or not self._fresh(self._rates[s][0])]
        if not stale:
            return
        try:
            rates = {r.symbol: r for r in self._reader.funding_rates(stale)}
        except TransientExchangeError as exc:
            raise self._unreadable("funding rates", exc) from exc
        missing = [s for s in stale if s not in rates]
        if missing:
            raise TransientExchangeError(
                self.venue, f"dry-run: the venue gave no funding rate for {', '.join(missing)}"
            )
        read_at, now = self._clock.monotonic(), self._clock.now()
        for symbol in stale:
            self._rates[symbol] = (read_at, now, rates[symbol])

    def rates(self, symbols: Sequence[str]) -> list[FundingRate]:
        """The venue's funding rates of `symbols`, read within the call window."""
        self._read_rates(symbols)
        return [self._rates[s][2] for s in symbols]

    def observe(self, symbols: Iterable[str]) -> list[Tick]:
        """Read `symbols` and every watched one (where the last read is older than the call
        window) and return each read not yet on the tape as a tick at the time it was read."""
        wanted = sorted(set(symbols) | self._watched)
        self._read_rates(wanted)
        ticks = []
        for symbol in wanted:
            read_at, read_now, rate = self._rates[symbol]
            if self._recorded.get(symbol) != read_at:
                ticks.append(self._tick(rate, read_now))
                self._recorded[symbol] = read_at
        return ticks

    def _tick(self, rate: FundingRate, now: datetime) -> Tick:
        mark = rate.mark_price
        if mark is None:  # a venue that quotes funding without a mark: the book's mid
            mark = self.book(rate.symbol).mid
        if mark <= 0:
            raise MalformedResponseError(
                self.venue, f"dry-run: the mark price of {rate.symbol} is {mark}"
            )
        try:
            interval = check_interval_hours(rate.interval_hours, f"{rate.symbol} interval")
        except ValueError as exc:
            raise MalformedResponseError(
                self.venue, f"dry-run cannot settle funding on it: {exc}"
            ) from None
        return Tick(self.venue, rate.symbol, now, mark, rate.rate, Decimal(interval))

    def book(self, symbol: str) -> TopOfBook:
        """The venue's top of book, read within the call window and no older than the age
        limit (the price a dry-run fill takes)."""
        cached = self._books.get(symbol)
        if cached is None or not self._fresh(cached[0]):
            try:
                book = self._reader.top_of_book(symbol)
            except TransientExchangeError as exc:
                raise self._unreadable(f"the {symbol} order book", exc) from exc
            cached = (self._clock.monotonic(), book)
            self._books[symbol] = cached
        book = cached[1]
        age = (self._clock.now() - book.timestamp).total_seconds()
        if age > self._max_age:
            raise TransientExchangeError(
                self.venue,
                f"dry-run: the {symbol} order book is {age:.0f} s old (limit "
                f"{self._max_age:.0f} s); nothing is priced on it",
            )
        return book


class LiveMarket:
    """The `MarketSource` of a dry-run venue: observed ticks from `tape`, the real book and
    instrument sizes from `quotes`."""

    def __init__(self, tape: MarketSource, quotes: LiveQuotes) -> None:
        self._tape = tape
        self._quotes = quotes

    def symbols(self) -> Sequence[str]:
        return self._quotes.symbols()

    def latest(self, symbols: Sequence[str], at: datetime) -> Mapping[str, Tick]:
        return self._tape.latest(symbols, at)

    def window(self, symbols: Sequence[str], after: datetime, until: datetime) -> MarketWindow:
        # The symbols a venue asks ticks for are the ones in play (any process's positions
        # and resting orders): observe them on every later refresh.
        self._quotes.watch(symbols)
        return self._tape.window(symbols, after, until)

    def book(self, symbol: str) -> TopOfBook:
        return self._quotes.book(symbol)

    def spec(self, symbol: str) -> SymbolSpec:
        return self._quotes.spec(symbol)

"""Market data as the simulated venue sees it, and where it comes from (`MarketSource`).

A market is a step function of ticks: the mark (and the funding rate quoted with it) at time
t is that of the latest tick at or before t. Funding is paid at funding events, each with the
rate and mark it is settled at. A source says which symbols a venue lists, the tick in force
at a time, the ticks and funding events of a window, and optionally a real top of book.
Three sources exist: the scenario in PostgreSQL (`exchanges.paper.market.ScenarioMarket`),
an in-memory series (`exchanges.simulation.series.SeriesMarket`, for backtests) and a real
venue read through the port (`exchanges.dry_run.LiveMarket`).

The funding calendar of a scenario: funding times are whole multiples of the market's
interval since midnight UTC (00:00, 08:00, 16:00 for 8 h; every hour for 1 h), the interval
being that of the tick in force at the funding time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from core.market import TopOfBook
from exchanges.venues import SymbolSpec

HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Tick:
    """One observation of a venue market: its mark and the funding rate quoted from `ts`."""

    venue: str
    symbol: str
    ts: datetime
    mark_price: Decimal
    funding_rate: Decimal  # per interval
    interval_hours: Decimal


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """A funding time of one market with the rate (per interval) and mark it settles at."""

    symbol: str
    funding_time: datetime
    rate: Decimal
    interval_hours: Decimal
    mark_price: Decimal


@dataclass(frozen=True, slots=True)
class MarketWindow:
    """What happened in a market in `(after, until]`: ticks of the symbols asked for and
    funding events of every symbol, each in (time, symbol) order."""

    ticks: Sequence[Tick]
    funding: Sequence[FundingEvent]


class MarketSource(Protocol):
    """Where a simulated venue's marks, books, funding and instrument sizes come from."""

    def symbols(self) -> Sequence[str]:
        """Every symbol the venue lists, sorted."""
        ...

    def latest(self, symbols: Sequence[str], at: datetime) -> Mapping[str, Tick]:
        """The tick in force at `at` for each of `symbols` that has one."""
        ...

    def window(self, symbols: Sequence[str], after: datetime, until: datetime) -> MarketWindow:
        """Ticks of `symbols` and funding events of every symbol with `after < t <= until`."""
        ...

    def book(self, symbol: str) -> TopOfBook | None:
        """The venue's real top of book now, or None where the book is modelled from the mark."""
        ...

    def spec(self, symbol: str) -> SymbolSpec:
        """Order size and price grid, and the leverage limit, of the symbol."""
        ...


def _floor_hours(moment: datetime) -> int:
    return (moment - _EPOCH) // HOUR


def _ceil_hours(moment: datetime) -> int:
    return -((_EPOCH - moment) // HOUR)


def is_funding_time(moment: datetime, interval_hours: Decimal) -> bool:
    if (moment - _EPOCH) % HOUR:
        return False
    return _floor_hours(moment) % int(interval_hours) == 0


def next_funding_time(after: datetime, interval_hours: Decimal) -> datetime:
    """The first funding time strictly after `after` for a market with this interval."""
    hours = _floor_hours(after) + 1
    hours += -hours % int(interval_hours)
    return _EPOCH + HOUR * hours


def funding_events(
    symbol: str, prior: Tick | None, window: Sequence[Tick], after: datetime, until: datetime
) -> list[FundingEvent]:
    """Funding times of one market in `(after, until]`, each with the tick in force then.

    `prior` is the latest tick at or before `after`; `window` the market's ticks in the
    interval, in time order. A funding time before the first tick has no rate and is skipped.
    Each tick is in force from its time until the next tick's, so the funding times it
    settles are the multiples of its interval in that span (found directly, hour by hour
    never: a year of a market costs its funding times, not its hours).
    """
    events: list[FundingEvent] = []
    current, begin = prior, _floor_hours(after) + 1  # whole hours > after
    last = len(window)
    for index in range(last + 1):
        # The tick in force until the next one (from its own time on), or until `until`.
        end = _ceil_hours(window[index].ts) if index < last else _floor_hours(until) + 1
        if current is not None:
            step = int(current.interval_hours)
            hour = begin + (-begin % step)  # its interval's grid, from `begin`
            while hour < end:
                events.append(
                    FundingEvent(
                        symbol,
                        _EPOCH + HOUR * hour,
                        current.funding_rate,
                        current.interval_hours,
                        current.mark_price,
                    )
                )
                hour += step
        if index < last:
            current, begin = window[index], max(begin, end)
    return events

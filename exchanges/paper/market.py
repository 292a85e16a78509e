"""Reading scenario market data (`paper_market_ticks`) and the funding calendar.

Prices are a step function: the mark at time t is the mark of the latest tick at or before
t. Funding times of a market are the whole multiples of its interval since midnight UTC
(00:00, 08:00, 16:00 for 8 h; every hour for 1 h), the interval being that of the latest
tick at or before the funding time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from db.models.paper import PaperMarketTick

HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Tick:
    venue: str
    symbol: str
    ts: datetime
    mark_price: Decimal
    funding_rate: Decimal  # per interval
    interval_hours: Decimal

    @classmethod
    def of(cls, row: PaperMarketTick) -> Tick:
        return cls(
            row.venue, row.symbol, row.ts, row.mark_price, row.funding_rate, row.interval_hours
        )


@dataclass(frozen=True, slots=True)
class FundingEvent:
    symbol: str
    funding_time: datetime
    rate: Decimal
    interval_hours: Decimal
    mark_price: Decimal


# Loose index scan: one index probe per distinct symbol instead of reading every tick.
_SYMBOLS_SQL = text(
    """
    WITH RECURSIVE s(symbol) AS (
        SELECT min(symbol) FROM paper_market_ticks WHERE venue = :venue
        UNION ALL
        SELECT (SELECT min(symbol) FROM paper_market_ticks
                WHERE venue = :venue AND symbol > s.symbol)
        FROM s WHERE s.symbol IS NOT NULL
    )
    SELECT symbol FROM s WHERE symbol IS NOT NULL ORDER BY symbol
    """
)

_LATEST_SQL = text(
    """
    SELECT t.venue, t.symbol, t.ts, t.mark_price, t.funding_rate, t.interval_hours
    FROM unnest(:symbols) AS wanted(symbol)
    CROSS JOIN LATERAL (
        SELECT * FROM paper_market_ticks
        WHERE venue = :venue AND symbol = wanted.symbol AND ts <= :at
        ORDER BY ts DESC LIMIT 1
    ) AS t
    """
).bindparams(bindparam("symbols", type_=ARRAY(String)))


def venue_symbols(session: Session, venue: str) -> list[str]:
    return list(session.execute(_SYMBOLS_SQL, {"venue": venue}).scalars())


def latest_ticks(
    session: Session, venue: str, symbols: Sequence[str], at: datetime
) -> dict[str, Tick]:
    """The latest tick at or before `at` for each symbol that has one."""
    if not symbols:
        return {}
    rows = session.execute(_LATEST_SQL, {"venue": venue, "symbols": list(symbols), "at": at})
    return {row.symbol: Tick(*row) for row in rows}


def ticks_between(
    session: Session, venue: str, symbols: Sequence[str], after: datetime, until: datetime
) -> list[Tick]:
    """Ticks with `after < ts <= until`, in time order."""
    if not symbols:
        return []
    rows = session.scalars(
        select(PaperMarketTick)
        .where(
            PaperMarketTick.venue == venue,
            PaperMarketTick.symbol.in_(list(symbols)),
            PaperMarketTick.ts > after,
            PaperMarketTick.ts <= until,
        )
        .order_by(PaperMarketTick.ts, PaperMarketTick.symbol)
    )
    return [Tick.of(row) for row in rows]


def is_funding_time(moment: datetime, interval_hours: Decimal) -> bool:
    seconds = (moment - _EPOCH).total_seconds()
    if seconds % 3600:
        return False
    return int(seconds // 3600) % int(interval_hours) == 0


def next_funding_time(after: datetime, interval_hours: Decimal) -> datetime:
    """The first funding time strictly after `after` for a market with this interval."""
    hour = after.replace(minute=0, second=0, microsecond=0) + HOUR
    while not is_funding_time(hour, interval_hours):
        hour += HOUR
    return hour


def funding_events(
    symbol: str, prior: Tick | None, window: Sequence[Tick], after: datetime, until: datetime
) -> Iterator[FundingEvent]:
    """Funding times of one market in `(after, until]`, each with the tick in force then.

    `prior` is the latest tick at or before `after`; `window` the market's ticks in the
    interval, in time order. A funding time before the first tick has no rate and is skipped.
    """
    current = prior
    index = 0
    hour = after.replace(minute=0, second=0, microsecond=0) + HOUR
    while hour <= until:
        while index < len(window) and window[index].ts <= hour:
            current = window[index]
            index += 1
        if current is not None and is_funding_time(hour, current.interval_hours):
            yield FundingEvent(
                symbol, hour, current.funding_rate, current.interval_hours, current.mark_price
            )
        hour += HOUR

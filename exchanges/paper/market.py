"""The scenario in PostgreSQL (`paper_market_ticks`) as a `MarketSource`.

Every process reads the same ticks, so every process sees the same market. Funding events
come from the ticks through the scenario calendar (`exchanges.simulation.market`); the book
is modelled from the mark; order sizes come from the venue table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from core.market import TopOfBook
from db.models.paper import PaperMarketTick
from exchanges.simulation.market import MarketWindow, Tick, funding_events
from exchanges.venues import SymbolSpec, symbol_spec

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


class ScenarioMarket:
    """The ticks of one venue in PostgreSQL, read in the caller's session (transaction)."""

    def __init__(self, session: Session, venue: str) -> None:
        self._session = session
        self.venue = venue
        self._symbols: list[str] | None = None

    def symbols(self) -> Sequence[str]:
        if self._symbols is None:
            rows = self._session.execute(_SYMBOLS_SQL, {"venue": self.venue}).scalars()
            self._symbols = list(rows)
        return self._symbols

    def latest(self, symbols: Sequence[str], at: datetime) -> dict[str, Tick]:
        if not symbols:
            return {}
        rows = self._session.execute(
            _LATEST_SQL, {"venue": self.venue, "symbols": list(symbols), "at": at}
        )
        return {row.symbol: Tick(*row) for row in rows}

    def window(self, symbols: Sequence[str], after: datetime, until: datetime) -> MarketWindow:
        every = self.symbols()
        prior = self.latest(every, after)
        ticks = self._between(every, after, until)
        by_symbol: dict[str, list[Tick]] = {}
        for tick in ticks:
            by_symbol.setdefault(tick.symbol, []).append(tick)
        funding = [
            event
            for symbol in every
            for event in funding_events(
                symbol, prior.get(symbol), by_symbol.get(symbol, []), after, until
            )
        ]
        funding.sort(key=lambda e: (e.funding_time, e.symbol))
        wanted = set(symbols)
        return MarketWindow([t for t in ticks if t.symbol in wanted], funding)

    def _between(self, symbols: Sequence[str], after: datetime, until: datetime) -> list[Tick]:
        """Ticks with `after < ts <= until`, in time order."""
        if not symbols:
            return []
        rows = self._session.execute(
            select(
                PaperMarketTick.venue,
                PaperMarketTick.symbol,
                PaperMarketTick.ts,
                PaperMarketTick.mark_price,
                PaperMarketTick.funding_rate,
                PaperMarketTick.interval_hours,
            )
            .where(
                PaperMarketTick.venue == self.venue,
                PaperMarketTick.symbol.in_(list(symbols)),
                PaperMarketTick.ts > after,
                PaperMarketTick.ts <= until,
            )
            .order_by(PaperMarketTick.ts, PaperMarketTick.symbol)
        )
        return [Tick(*row) for row in rows]

    def record(self, ticks: Sequence[Tick]) -> None:
        """Add observed ticks (dry-run); a tick already stored at that time is kept."""
        if not ticks:
            return
        self._session.execute(
            insert(PaperMarketTick)
            .values(
                [
                    {
                        "venue": t.venue,
                        "symbol": t.symbol,
                        "ts": t.ts,
                        "mark_price": t.mark_price,
                        "funding_rate": t.funding_rate,
                        "interval_hours": t.interval_hours,
                    }
                    for t in ticks
                ]
            )
            .on_conflict_do_nothing(index_elements=["venue", "symbol", "ts"])
        )
        self._symbols = None

    def book(self, symbol: str) -> TopOfBook | None:
        return None  # modelled from the mark

    def spec(self, symbol: str) -> SymbolSpec:
        return symbol_spec(symbol)

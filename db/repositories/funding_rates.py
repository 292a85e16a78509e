"""`funding_rates`: idempotent inserts and the queries the ranking needs.

Every reader names the kind it wants (`core.market.FundingKind`): the ranking reads predicted
quotes, a backtest reads realised settlements, and neither ever sees the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from core.market import FundingKind, FundingRate, SeriesKey
from db.models import FundingRate as FundingRateRow

# Plain columns, not ORM entities: the ranking reads thousands of rows every minute and
# entity loading would cost more than the ranking itself.
_COLUMNS = (
    FundingRateRow.venue,
    FundingRateRow.symbol,
    FundingRateRow.rate,
    FundingRateRow.interval_hours,
    FundingRateRow.next_funding_time,
    FundingRateRow.mark_price,
    FundingRateRow.observed_at,
    FundingRateRow.open_interest_usd,
    FundingRateRow.margin_asset,
    FundingRateRow.kind,
)

# One statement per chunk of rows, each column sent as one array: fast for a year of history
# and within any driver's limit on bound parameters.
_INSERT = text(
    """
    INSERT INTO funding_rates (venue, symbol, margin_asset, kind, rate, interval_hours,
                               next_funding_time, mark_price, open_interest_usd, observed_at)
    SELECT * FROM unnest(
        CAST(:venue AS varchar[]), CAST(:symbol AS varchar[]), CAST(:margin_asset AS varchar[]),
        CAST(:kind AS varchar[]), CAST(:rate AS numeric[]), CAST(:interval_hours AS numeric[]),
        CAST(:next_funding_time AS timestamptz[]), CAST(:mark_price AS numeric[]),
        CAST(:open_interest_usd AS numeric[]), CAST(:observed_at AS timestamptz[]))
    ON CONFLICT (kind, venue, symbol, margin_asset, observed_at) DO NOTHING
    RETURNING venue, symbol, margin_asset
    """
)
CHUNK_ROWS = 20_000

_NEWEST_PER_PAIR = text(
    """
    SELECT q.* FROM unnest(CAST(:venues AS varchar[]), CAST(:symbols AS varchar[]))
        AS wanted(venue, symbol)
    CROSS JOIN LATERAL (
        SELECT venue, symbol, rate, interval_hours, next_funding_time, mark_price,
               observed_at, open_interest_usd, margin_asset, kind
        FROM funding_rates
        WHERE kind = :kind AND venue = wanted.venue AND symbol = wanted.symbol
          AND observed_at >= :since
        ORDER BY margin_asset DESC, observed_at DESC LIMIT 1
    ) q
    """
)


def _to_domain(row: Sequence[Any]) -> FundingRate:
    """A row of `_COLUMNS`, in that order."""
    *values, margin_asset, kind = row
    return FundingRate(*values, margin_asset=margin_asset, kind=FundingKind(kind))


def rate_columns(rates: Sequence[FundingRate]) -> dict[str, list[object]]:
    """The rates as one list per column (the array parameters of a bulk statement)."""
    return {
        "venue": [r.venue for r in rates],
        "symbol": [r.symbol for r in rates],
        "margin_asset": [r.margin_asset for r in rates],
        "kind": [r.kind.value for r in rates],
        "rate": [r.rate for r in rates],
        "interval_hours": [r.interval_hours for r in rates],
        "next_funding_time": [r.next_funding_time for r in rates],
        "mark_price": [r.mark_price for r in rates],
        "open_interest_usd": [r.open_interest_usd for r in rates],
        "observed_at": [r.timestamp for r in rates],
    }


# The newest quote per (venue, symbol) as arrays, one row in all (see `latest_screen`). The
# inner DISTINCT ON walks the series index backwards (no sort); the outer one sorts only the
# latest rows, on byte order ("C"), which is all grouping needs.
_SCREEN = text(
    """
    WITH latest AS (
        SELECT DISTINCT ON (venue, symbol, margin_asset)
               id, venue, symbol, margin_asset, rate, interval_hours, observed_at,
               open_interest_usd
        FROM funding_rates
        WHERE kind = :kind AND observed_at >= :since
          AND (CAST(:venues AS varchar[]) IS NULL OR venue = ANY(CAST(:venues AS varchar[])))
          AND (CAST(:symbols AS varchar[]) IS NULL OR symbol = ANY(CAST(:symbols AS varchar[])))
        ORDER BY venue DESC, symbol DESC, margin_asset DESC, observed_at DESC
    ), newest AS (
        SELECT DISTINCT ON (venue COLLATE "C", symbol COLLATE "C") * FROM latest
        ORDER BY venue COLLATE "C", symbol COLLATE "C", observed_at DESC, margin_asset
    )
    SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(venue), '{}'),
           coalesce(array_agg(symbol), '{}'),
           coalesce(array_agg(CAST(rate / interval_hours AS float8)), '{}'),
           coalesce(array_agg(CAST(extract(epoch FROM observed_at) * 1000000 AS bigint)), '{}'),
           coalesce(array_agg(coalesce(open_interest_usd < CAST(:min_oi AS numeric), false)),
                    '{}')
    FROM newest
    """
)

# (row ids, venues, symbols, hourly rates, observed times in microseconds since 1970 UTC,
# open interest known and below the minimum)
ScreenColumns = tuple[list[int], list[str], list[str], list[float], list[int], list[bool]]


class FundingRateRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_many(self, rates: Iterable[FundingRate]) -> int:
        """Store rates; one already stored (kind, venue, symbol, margin, time) is skipped.

        Returns how many rows were new.
        """
        return sum(self.add_by_series(rates).values())

    def add_by_series(self, rates: Iterable[FundingRate]) -> Counter[SeriesKey]:
        """Store rates like `add_many`; returns how many were new per series."""
        batch = list(rates)
        new: Counter[SeriesKey] = Counter()
        for start in range(0, len(batch), CHUNK_ROWS):
            chunk = batch[start : start + CHUNK_ROWS]
            for venue, symbol, margin in self._session.execute(_INSERT, rate_columns(chunk)):
                new[SeriesKey(venue, symbol, margin)] += 1
        return new

    def latest(
        self,
        since: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        *,
        kind: FundingKind,
    ) -> list[FundingRate]:
        """The newest rate of `kind` per (venue, symbol, margin asset) among those known
        since `since`."""
        # Every key descending: a backward walk of the series index (kind, venue, symbol,
        # margin, time) yields each series newest first with no sort (a sort of the strings
        # under the database's collation was most of the query's time); reversed below
        # into (venue, symbol, margin) order. The kind is the one asked for, not read back.
        query = (
            select(*_COLUMNS[:-1])
            .where(FundingRateRow.kind == kind.value, FundingRateRow.observed_at >= since)
            .ext(
                distinct_on(
                    FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.margin_asset
                )
            )
            .order_by(
                FundingRateRow.venue.desc(),
                FundingRateRow.symbol.desc(),
                FundingRateRow.margin_asset.desc(),
                FundingRateRow.observed_at.desc(),
            )
        )
        if venues is not None:
            query = query.where(FundingRateRow.venue.in_(list(venues)))
        if symbols is not None:
            query = query.where(FundingRateRow.symbol.in_(list(symbols)))
        rows = self._session.execute(query).all()
        return [FundingRate(*row[:-1], margin_asset=row[-1], kind=kind) for row in reversed(rows)]

    def latest_screen(
        self,
        since: datetime,
        venues: Sequence[str] | None,
        symbols: Sequence[str] | None,
        *,
        kind: FundingKind,
        min_open_interest_usd: Decimal | None,
    ) -> ScreenColumns:
        """The newest rate of `kind` per (venue, symbol) known since `since` (the newest of
        its margin assets; on a tie the first by name), as columns: row id, venue, symbol,
        hourly rate as a float, observed time (microseconds since 1970 UTC, exact), open
        interest known and below the minimum. Arrays in one row: no Python object per
        rate."""
        row = self._session.execute(
            _SCREEN,
            {
                "kind": kind.value,
                "since": since,
                "venues": list(venues) if venues is not None else None,
                "symbols": list(symbols) if symbols is not None else None,
                "min_oi": min_open_interest_usd,
            },
        ).one()
        ids, venue_list, symbol_list, hourly, observed, low = row
        return ids, venue_list, symbol_list, hourly, observed, low

    def by_ids(self, ids: Sequence[int], *, kind: FundingKind) -> dict[int, FundingRate]:
        """The rates of `kind` with these row ids."""
        query = select(FundingRateRow.id, *_COLUMNS[:-1]).where(
            FundingRateRow.kind == kind.value, FundingRateRow.id.in_(list(ids))
        )
        return {
            row[0]: FundingRate(*row[1:-1], margin_asset=row[-1], kind=kind)
            for row in self._session.execute(query)
        }

    def newest_per_pair(
        self, since: datetime, pairs: Iterable[tuple[str, str]], *, kind: FundingKind
    ) -> list[FundingRate]:
        """The newest rate of `kind` known since `since` for each (venue, symbol) pair; of a
        symbol quoted in several margin assets, the last by name (as `latest` keyed by venue
        and symbol keeps). One backward index probe per pair, so the cost does not grow with
        the history kept (the dashboard's marks for hundreds of legs)."""
        wanted = sorted(set(pairs))
        if not wanted:
            return []
        rows = self._session.execute(
            _NEWEST_PER_PAIR,
            {
                "venues": [venue for venue, _ in wanted],
                "symbols": [symbol for _, symbol in wanted],
                "since": since,
                "kind": kind.value,
            },
        )
        return [_to_domain(row) for row in rows]

    def history(
        self,
        venue: str,
        symbol: str,
        since: datetime,
        until: datetime,
        *,
        kind: FundingKind,
        margin_asset: str | None = None,
    ) -> list[FundingRate]:
        """Rates of `kind` known in [since, until], oldest first. A realised settlement is
        known from its settlement time, so nothing paid after `until` is returned (a reader
        asking "as of t" passes until=t). `margin_asset` None: every margin asset."""
        query = (
            select(*_COLUMNS)
            .where(
                FundingRateRow.kind == kind.value,
                FundingRateRow.venue == venue,
                FundingRateRow.symbol == symbol,
                FundingRateRow.observed_at >= since,
                FundingRateRow.observed_at <= until,
            )
            .order_by(FundingRateRow.observed_at, FundingRateRow.margin_asset)
        )
        if margin_asset is not None:
            query = query.where(FundingRateRow.margin_asset == margin_asset)
        return [_to_domain(row) for row in self._session.execute(query)]

    def delete_older_than(self, cutoff: datetime, *, kind: FundingKind) -> int:
        """Retention: drop rows of `kind` older than `cutoff`; returns how many. Pruning
        quotes never touches imported history (it is another kind)."""
        result = self._session.execute(
            delete(FundingRateRow).where(
                FundingRateRow.kind == kind.value, FundingRateRow.observed_at < cutoff
            )
        )
        # A DELETE runs on a cursor; `Session.execute` is typed `Result` for every statement.
        return int(cast(CursorResult[Any], result).rowcount or 0)

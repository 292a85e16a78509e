"""Realised funding history in `funding_rates`: how long each series is, where it has gaps,
and which imported rows disagree with what is stored.

A series is (venue, symbol, margin asset) of one kind. Its settlements are expected one
interval apart, the interval being each row's own (`interval_hours`, which changes over time
for some symbols): between consecutive settlements a and b, `round((b - a) / interval_b)`
settlements were due, so anything above one is a gap of that many minus one. A missing
settlement stays missing: nothing here (or anywhere in perpbot) fills it forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.market import FundingKind, FundingRate, SeriesKey
from db.repositories.funding_rates import CHUNK_ROWS, rate_columns

_SERIES = text(
    """
    WITH steps AS (
        SELECT venue, symbol, margin_asset, observed_at, interval_hours,
               round(extract(epoch FROM observed_at - lag(observed_at) OVER w)
                     / 3600 / interval_hours) AS due,
               interval_hours <> lag(interval_hours) OVER w AS interval_changed
        FROM funding_rates
        WHERE kind = :kind
          AND (CAST(:venue AS varchar) IS NULL OR venue = :venue)
          AND (CAST(:symbol AS varchar) IS NULL OR symbol = :symbol)
          AND (CAST(:margin AS varchar) IS NULL OR margin_asset = :margin)
        WINDOW w AS (PARTITION BY venue, symbol, margin_asset ORDER BY observed_at)
    )
    SELECT venue, symbol, margin_asset, min(observed_at), max(observed_at), count(*),
           1 + coalesce(sum(greatest(due, 1)) FILTER (WHERE due IS NOT NULL), 0),
           count(*) FILTER (WHERE due > 1),
           count(*) FILTER (WHERE interval_changed),
           array_agg(DISTINCT interval_hours ORDER BY interval_hours)
    FROM steps
    GROUP BY venue, symbol, margin_asset
    ORDER BY venue, symbol, margin_asset
    """
)

_SETTLEMENTS = text(
    """
    SELECT venue, symbol, margin_asset,
           CAST(extract(epoch FROM observed_at) * 1000000 AS bigint),
           CAST(rate AS float8), CAST(interval_hours AS float8), CAST(mark_price AS float8)
    FROM funding_rates
    WHERE kind = 'realised'
      AND (CAST(:venues AS varchar[]) IS NULL OR venue = ANY(CAST(:venues AS varchar[])))
      AND (CAST(:symbols AS varchar[]) IS NULL OR symbol = ANY(CAST(:symbols AS varchar[])))
      AND observed_at >= :since AND observed_at <= :until
    ORDER BY venue, symbol, margin_asset, observed_at
    """
)

_DIFFERENT = text(
    """
    SELECT n.venue, n.symbol, n.margin_asset, n.observed_at, f.rate, n.rate,
           f.interval_hours, n.interval_hours
    FROM unnest(CAST(:venue AS varchar[]), CAST(:symbol AS varchar[]),
                CAST(:margin_asset AS varchar[]), CAST(:kind AS varchar[]),
                CAST(:rate AS numeric[]), CAST(:interval_hours AS numeric[]),
                CAST(:observed_at AS timestamptz[]))
         AS n(venue, symbol, margin_asset, kind, rate, interval_hours, observed_at)
    JOIN funding_rates f USING (kind, venue, symbol, margin_asset, observed_at)
    WHERE f.rate <> n.rate OR f.interval_hours <> n.interval_hours
    ORDER BY n.observed_at
    LIMIT 5
    """
)


@dataclass(frozen=True, slots=True)
class SeriesLength:
    """How much history one series holds, and how much of it is missing."""

    series: SeriesKey
    kind: FundingKind
    first: datetime
    last: datetime
    rows: int
    expected: int  # settlements due from first to last at the rows' own intervals
    gaps: int  # places where at least one settlement is missing
    interval_changes: int
    intervals: tuple[Decimal, ...]

    @property
    def missing(self) -> int:
        return self.expected - self.rows


@dataclass(frozen=True, slots=True)
class StoredDifference:
    """An incoming settlement whose (series, time) is stored with another rate/interval."""

    series: SeriesKey
    at: datetime
    stored_rate: Decimal
    new_rate: Decimal
    stored_interval: Decimal
    new_interval: Decimal


class FundingHistoryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def series(
        self,
        *,
        kind: FundingKind = FundingKind.REALISED,
        venue: str | None = None,
        symbol: str | None = None,
        margin_asset: str | None = None,
    ) -> list[SeriesLength]:
        """History length of every stored series of `kind` (optionally of one venue,
        symbol or margin asset), ordered by venue, symbol, margin asset."""
        rows = self._session.execute(
            _SERIES,
            {"kind": kind.value, "venue": venue, "symbol": symbol, "margin": margin_asset},
        )
        return [
            SeriesLength(
                series=SeriesKey(v, s, m),
                kind=kind,
                first=first,
                last=last,
                rows=int(count),
                expected=int(expected),
                gaps=int(gaps),
                interval_changes=int(changes),
                intervals=tuple(Decimal(i).normalize() for i in intervals),
            )
            for v, s, m, first, last, count, expected, gaps, changes, intervals in rows
        ]

    def settlement_columns(
        self,
        since: datetime,
        until: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> list[tuple[str, str, str, int, float, float, float | None]]:
        """Realised settlements paid in [since, until] as plain tuples (venue, symbol,
        margin, µs since epoch, rate, interval, mark) in float, for array screening."""
        params = {
            "since": since,
            "until": until,
            "venues": list(venues) if venues is not None else None,
            "symbols": list(symbols) if symbols is not None else None,
        }
        return [tuple(row) for row in self._session.execute(_SETTLEMENTS, params)]

    def differences(self, rates: Sequence[FundingRate]) -> list[StoredDifference]:
        """The first few `rates` already stored with a different rate or interval."""
        found: list[StoredDifference] = []
        for start in range(0, len(rates), CHUNK_ROWS):
            columns = rate_columns(rates[start : start + CHUNK_ROWS])
            for v, s, m, at, old_rate, new_rate, old_iv, new_iv in self._session.execute(
                _DIFFERENT, columns
            ):
                found.append(
                    StoredDifference(SeriesKey(v, s, m), at, old_rate, new_rate, old_iv, new_iv)
                )
            if found:
                break
        return found

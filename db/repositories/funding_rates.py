"""`funding_rates`: idempotent inserts and the queries the ranking needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session

from core.market import FundingRate
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
)


def _to_domain(row: tuple) -> FundingRate:  # type: ignore[type-arg]
    return FundingRate(*row)


class FundingRateRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_many(self, rates: Iterable[FundingRate]) -> int:
        """Store observations; one already stored (venue, symbol, time) is skipped.

        Returns how many rows were new.
        """
        values = [
            {
                "venue": r.venue,
                "symbol": r.symbol,
                "rate": r.rate,
                "interval_hours": r.interval_hours,
                "next_funding_time": r.next_funding_time,
                "mark_price": r.mark_price,
                "open_interest_usd": r.open_interest_usd,
                "observed_at": r.timestamp,
            }
            for r in rates
        ]
        if not values:
            return 0
        # Rows as parameter sets, not one VALUES list: SQLAlchemy batches them into
        # statements under PostgreSQL's 65,535 bound parameters (psycopg 3 binds server-side).
        result = self._session.execute(
            insert(FundingRateRow)
            .on_conflict_do_nothing(index_elements=["venue", "symbol", "observed_at"])
            .returning(FundingRateRow.id),
            values,
        )
        return len(result.all())

    def latest(
        self,
        since: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> list[FundingRate]:
        """The newest observation per (venue, symbol) among those made since `since`."""
        query = (
            select(*_COLUMNS)
            .where(FundingRateRow.observed_at >= since)
            .ext(distinct_on(FundingRateRow.venue, FundingRateRow.symbol))
            .order_by(
                FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.observed_at.desc()
            )
        )
        if venues is not None:
            query = query.where(FundingRateRow.venue.in_(list(venues)))
        if symbols is not None:
            query = query.where(FundingRateRow.symbol.in_(list(symbols)))
        return [_to_domain(row) for row in self._session.execute(query)]

    def history(
        self, venue: str, symbol: str, since: datetime, until: datetime
    ) -> list[FundingRate]:
        query = (
            select(*_COLUMNS)
            .where(
                FundingRateRow.venue == venue,
                FundingRateRow.symbol == symbol,
                FundingRateRow.observed_at >= since,
                FundingRateRow.observed_at <= until,
            )
            .order_by(FundingRateRow.observed_at)
        )
        return [_to_domain(row) for row in self._session.execute(query)]

    def delete_older_than(self, cutoff: datetime) -> int:
        """Retention: drop observations older than `cutoff`; returns how many."""
        result = self._session.execute(
            delete(FundingRateRow).where(FundingRateRow.observed_at < cutoff)
        )
        return int(result.rowcount or 0)

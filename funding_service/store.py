"""Read access to stored funding rates, for the strategy's `FundingServiceClient`.

Each call is its own short read transaction; the reader holds no session between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from core.market import FundingKind, FundingRate
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work
from funding_service.opportunities import QuoteScreen


class PostgresFundingRateSource:
    """Implements `FundingRateSource` (strategies/implementations/funding_arbitrage/api_client)."""

    def __init__(self, engine: Engine | None = None) -> None:
        self._engine = engine

    def latest_rates(
        self,
        since: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        *,
        kind: FundingKind,
    ) -> list[FundingRate]:
        with unit_of_work(self._engine) as session:
            return FundingRateRepository(session).latest(since, venues, symbols, kind=kind)

    def quote_screen(
        self,
        since: datetime,
        venues: Sequence[str] | None,
        symbols: Sequence[str] | None,
        min_open_interest_usd: Decimal | None,
    ) -> QuoteScreen:
        """Implements `funding_service.opportunities.ScreenSource` (predicted quotes)."""
        with unit_of_work(self._engine) as session:
            columns = FundingRateRepository(session).latest_screen(
                since,
                venues,
                symbols,
                kind=FundingKind.PREDICTED,
                min_open_interest_usd=min_open_interest_usd,
            )
        return QuoteScreen(*columns)

    def rates_by_id(self, ids: Sequence[int]) -> dict[int, FundingRate]:
        with unit_of_work(self._engine) as session:
            return FundingRateRepository(session).by_ids(ids, kind=FundingKind.PREDICTED)

    def rate_history(
        self, venue: str, symbol: str, since: datetime, until: datetime, *, kind: FundingKind
    ) -> list[FundingRate]:
        with unit_of_work(self._engine) as session:
            return FundingRateRepository(session).history(venue, symbol, since, until, kind=kind)

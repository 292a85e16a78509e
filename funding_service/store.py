"""Read access to stored funding rates, for the strategy's `FundingServiceClient`.

Each call is its own short read transaction; the reader holds no session between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from core.market import FundingKind, FundingRate
from db.repositories.funding_rates import FundingRateRepository
from db.uow import unit_of_work


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

    def rate_history(
        self, venue: str, symbol: str, since: datetime, until: datetime, *, kind: FundingKind
    ) -> list[FundingRate]:
        with unit_of_work(self._engine) as session:
            return FundingRateRepository(session).history(venue, symbol, since, until, kind=kind)

"""`FundingServiceClient`: the funding-arbitrage strategy's only way to read funding data.

The client depends on a `FundingRateSource` (the interface is in
`strategies.components.funding_types`; the PostgreSQL-backed one lives in
`funding_service.store` and is injected by the factory), and on the pure ranking of
`funding_service.opportunities`, so the strategy never touches the database itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.market import FundingKind, FundingRate
from funding_service.fees import FeeSchedule
from funding_service.opportunities import (
    Opportunity,
    OpportunityFilter,
    Ranking,
    ScreenSource,
    divergence_hourly,
    rank_opportunities,
    rank_screen,
)
from strategies.components.base_components import FundingRateSource


@dataclass(frozen=True, slots=True)
class PairQuote:
    long_rate: FundingRate
    short_rate: FundingRate
    divergence_hourly: Decimal


@dataclass(frozen=True, slots=True)
class DivergencePoint:
    at: datetime
    long_hourly: Decimal
    short_hourly: Decimal
    divergence_hourly: Decimal


class FundingServiceClient:
    # How far back "latest" looks: rates older than the filter's max age are still found so
    # that they can be reported as stale instead of silently missing.
    LOOKBACK = timedelta(hours=24)
    # Live decisions read the venues' current quotes, never realised history.
    KIND = FundingKind.PREDICTED

    def __init__(self, source: FundingRateSource, fees: FeeSchedule) -> None:
        self._source = source
        self._fees = fees
        # The last ranking and what it was ranked from: a cycle ranks the same quotes at the
        # same time for its rebalance and its open phase. Reused only when the rates read
        # are equal to the last ones, so a rate that arrived in between is always ranked.
        self._last_rank: tuple[tuple[object, ...], list[FundingRate], Ranking] | None = None

    @property
    def fees(self) -> FeeSchedule:
        return self._fees

    def latest_rates(
        self,
        now: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> list[FundingRate]:
        return self._source.latest_rates(now - self.LOOKBACK, venues, symbols, kind=self.KIND)

    def rank(self, now: datetime, flt: OpportunityFilter, limit: int | None = None) -> Ranking:
        venues = sorted(flt.venues) if flt.venues is not None else None
        symbols = sorted(flt.symbols) if flt.symbols is not None else None
        if isinstance(self._source, ScreenSource):  # thousands of rows: screen, then load
            screen = self._source.quote_screen(
                now - self.LOOKBACK, venues, symbols, flt.min_open_interest_usd
            )
            return rank_screen(screen, self._source.rates_by_id, self._fees, flt, now, limit)
        rates = self.latest_rates(now, venues, symbols)
        key = (now, flt, limit)
        last = self._last_rank
        if last is not None and last[0] == key and last[1] == rates:
            return last[2]
        ranking = rank_opportunities(rates, self._fees, flt, now, limit)
        self._last_rank = (key, rates, ranking)
        return ranking

    def best_opportunities(
        self, now: datetime, flt: OpportunityFilter, n: int
    ) -> list[Opportunity]:
        return self.rank(now, flt, limit=n).opportunities

    def current(
        self, now: datetime, symbol: str, long_venue: str, short_venue: str, max_age: timedelta
    ) -> PairQuote | None:
        """Both legs' newest rates and their divergence, profitable or not; None if a leg has
        no rate observed within `max_age`."""
        rates = {
            r.venue: r
            for r in self.latest_rates(now, [long_venue, short_venue], [symbol])
            if now - r.timestamp <= max_age
        }
        if long_venue not in rates or short_venue not in rates:
            return None
        long_rate, short_rate = rates[long_venue], rates[short_venue]
        return PairQuote(long_rate, short_rate, divergence_hourly(long_rate, short_rate))

    def divergence_history(
        self, symbol: str, long_venue: str, short_venue: str, since: datetime, until: datetime
    ) -> list[DivergencePoint]:
        """Divergence over time, pairing each long observation with the newest short one."""
        longs = self._source.rate_history(long_venue, symbol, since, until, kind=self.KIND)
        shorts = self._source.rate_history(short_venue, symbol, since, until, kind=self.KIND)
        points: list[DivergencePoint] = []
        j = -1
        for long_rate in longs:
            while j + 1 < len(shorts) and shorts[j + 1].timestamp <= long_rate.timestamp:
                j += 1
            if j < 0:
                continue
            short_rate = shorts[j]
            points.append(
                DivergencePoint(
                    at=long_rate.timestamp,
                    long_hourly=long_rate.hourly_rate,
                    short_hourly=short_rate.hourly_rate,
                    divergence_hourly=divergence_hourly(long_rate, short_rate),
                )
            )
        return points

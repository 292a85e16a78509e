"""`InMemoryFundingRateSource`: the in-memory twin of `PostgresFundingRateSource`
(`funding_service.store`), for tests and backtests that run without a database.

It answers `latest_rates` and `rate_history` exactly as the PostgreSQL source does: one
observation per (venue, symbol, observed time) — storing one again changes nothing — the
newest per (venue, symbol) among those observed since a time, ordered by venue and symbol,
and a pair's history oldest first with both ends included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime

from core.market import FundingKind, FundingRate


class InMemoryFundingRateSource:
    """Implements `FundingRateSource` over a dict keyed like `funding_rates`' unique key:
    (kind, venue, symbol, margin asset, observed time)."""

    def __init__(self, rates: Iterable[FundingRate] = ()) -> None:
        self._rates: dict[tuple[FundingKind, str, str, str, datetime], FundingRate] = {}
        self._lock = threading.Lock()
        self.add(rates)

    def add(self, rates: Iterable[FundingRate]) -> int:
        """Store observations (what the funding collector does); returns how many were new."""
        new = 0
        with self._lock:
            for rate in rates:
                key = (rate.kind, rate.venue, rate.symbol, rate.margin_asset, rate.timestamp)
                if key not in self._rates:
                    self._rates[key] = rate
                    new += 1
        return new

    def latest_rates(
        self,
        since: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        *,
        kind: FundingKind,
    ) -> list[FundingRate]:
        newest: dict[tuple[str, str, str], FundingRate] = {}
        with self._lock:
            for rate in self._rates.values():
                if rate.kind is not kind or rate.timestamp < since:
                    continue
                if venues is not None and rate.venue not in venues:
                    continue
                if symbols is not None and rate.symbol not in symbols:
                    continue
                series = (rate.venue, rate.symbol, rate.margin_asset)
                seen = newest.get(series)
                if seen is None or rate.timestamp > seen.timestamp:
                    newest[series] = rate
        return [newest[key] for key in sorted(newest)]

    def rate_history(
        self, venue: str, symbol: str, since: datetime, until: datetime, *, kind: FundingKind
    ) -> list[FundingRate]:
        """Rates of `kind` known in [since, until], oldest first (nothing after `until`)."""
        with self._lock:
            found = [
                r
                for (k, v, s, _margin, at), r in self._rates.items()
                if k is kind and v == venue and s == symbol and since <= at <= until
            ]
        return sorted(found, key=lambda r: (r.timestamp, r.margin_asset))

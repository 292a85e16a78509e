"""`InMemoryFundingRateSource`: the in-memory twin of `PostgresFundingRateSource`
(`funding_service.store`), for tests and backtests that run without a database.

It answers `latest_rates` and `rate_history` exactly as the PostgreSQL source does: one
observation per (venue, symbol, observed time) — storing one again changes nothing — the
newest per (venue, symbol) among those observed since a time, ordered by venue and symbol,
and a pair's history oldest first with both ends included.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from datetime import datetime

from core.market import FundingKind, FundingRate


class InMemoryFundingRateSource:
    """Implements `FundingRateSource` over a dict keyed like `funding_rates`' unique key:
    (kind, venue, symbol, margin asset, observed time).

    Indexed for a backtest's year of hourly observations: the newest observation of each
    series is kept aside (so `latest_rates` costs the number of series, not of rows), and
    each (kind, venue, symbol) keeps its observations in time order (`rate_history` is two
    binary searches)."""

    def __init__(self, rates: Iterable[FundingRate] = ()) -> None:
        self._rates: dict[tuple[FundingKind, str, str, str, datetime], FundingRate] = {}
        self._newest: dict[tuple[FundingKind, str, str, str], FundingRate] = {}
        self._history: dict[tuple[FundingKind, str, str], list[tuple[datetime, str]]] = {}
        # The answers given since the last change: a backtest's cycle asks the same
        # questions several times between two feeds.
        self._answers: dict[tuple[object, ...], list[FundingRate]] = {}
        self._lock = threading.Lock()
        self.add(rates)

    def add(self, rates: Iterable[FundingRate]) -> int:
        """Store observations (what the funding collector does); returns how many were new."""
        new = 0
        with self._lock:
            for rate in rates:
                key = (rate.kind, rate.venue, rate.symbol, rate.margin_asset, rate.timestamp)
                if key in self._rates:
                    continue
                self._rates[key] = rate
                self._answers.clear()
                new += 1
                series = (rate.kind, rate.venue, rate.symbol, rate.margin_asset)
                seen = self._newest.get(series)
                if seen is None or rate.timestamp > seen.timestamp:
                    self._newest[series] = rate
                times = self._history.setdefault((rate.kind, rate.venue, rate.symbol), [])
                entry = (rate.timestamp, rate.margin_asset)
                if not times or entry > times[-1]:
                    times.append(entry)  # the usual case: observations arrive in time order
                else:
                    insort(times, entry)
        return new

    def latest_rates(
        self,
        since: datetime,
        venues: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        *,
        kind: FundingKind,
    ) -> list[FundingRate]:
        # The newest observation of a series is the answer when it is recent enough; when it
        # is not, no observation of that series is.
        question = (
            since,
            None if venues is None else tuple(venues),
            None if symbols is None else tuple(symbols),
            kind,
        )
        with self._lock:
            known = self._answers.get(question)
            if known is not None:
                return list(known)
            found = {
                (venue, symbol, margin): rate
                for (k, venue, symbol, margin), rate in self._newest.items()
                if k is kind
                and rate.timestamp >= since
                and (venues is None or venue in venues)
                and (symbols is None or symbol in symbols)
            }
            answer = [found[key] for key in sorted(found)]
            self._answers[question] = answer
        return list(answer)

    def rate_history(
        self, venue: str, symbol: str, since: datetime, until: datetime, *, kind: FundingKind
    ) -> list[FundingRate]:
        """Rates of `kind` known in [since, until], oldest first (nothing after `until`)."""
        with self._lock:
            times = self._history.get((kind, venue, symbol), [])
            begin = bisect_left(times, (since, ""))
            end = bisect_right(times, (until, "\U0010ffff"))
            return [
                self._rates[(kind, venue, symbol, margin, at)] for at, margin in times[begin:end]
            ]

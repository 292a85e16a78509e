"""Rank funding-arbitrage opportunities from the latest rates of every venue.

For a symbol quoted on venues A and B, going long on A and short on B earns, per hour and per
unit of notional,

    divergence(A long, B short) = hourly_B - hourly_A      (hourly = rate / interval_hours)

Rates are always compared per hour: a 1h venue and an 8h venue quote on different bases.
`divergence(B long, A short) = -divergence(A long, B short)`, so for each unordered pair only
the direction with the positive divergence can earn; the ranking keeps that one.

An opportunity is kept when:
- both rates are fresh (observed within `max_age` of now) — stale legs are reported, not used;
- neither venue nor the symbol is excluded, and open interest (when known) is enough;
- divergence >= `min_divergence_hourly` (equivalently APR >= min APR);
- `breakeven_hours = cost / divergence` <= `max_breakeven_hours`;
- expected net over the horizon, `size * (divergence * H - cost)`, is positive.
It is ranked by expected net per unit notional over the horizon (ties: lower breakeven first,
then symbol and venues, so the order never depends on input order).

The ranking reads the venues' predicted (current) quotes only: a realised settlement handed
to it is an error, never silently ranked as if it were today's rate. Per (symbol, venue) it
keeps the newest quote, which is the perpetual the venue adapter trades.

It runs every minute over hundreds of symbols and a dozen venues (tens of thousands of venue
pairs), so it works in two steps:
1. a vectorized screen in float64 over a (symbol, long venue, short venue) array keeps every
   pair that could pass, with a tolerance far above float rounding, so none is lost;
2. the screened pairs are evaluated exactly in Decimal, best first, until `limit` exact
   results are certain (the next screened pair cannot beat the last kept one). Every
   decision and every number returned is the exact Decimal one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from core.market import HOURS_PER_YEAR, FundingKind, FundingRate
from core.money import ZERO
from funding_service.fees import FeeSchedule, VenueFees, round_trip_cost_rate


@dataclass(frozen=True)
class OpportunityFilter:
    horizon_hours: Decimal = Decimal(24 * 7)
    min_divergence_hourly: Decimal = ZERO
    max_breakeven_hours: Decimal = Decimal(72)
    max_age: timedelta = timedelta(minutes=15)
    min_open_interest_usd: Decimal | None = None
    venues: frozenset[str] | None = None  # None: every venue
    symbols: frozenset[str] | None = None
    excluded_venues: frozenset[str] = frozenset()
    excluded_symbols: frozenset[str] = frozenset()
    maker_open: bool = False
    maker_close: bool = False

    def with_min_apr(self, min_apr: Decimal) -> OpportunityFilter:
        """This filter, asking for at least `min_apr` of divergence (0.10: 10 % a year)."""
        return replace(self, min_divergence_hourly=min_apr / HOURS_PER_YEAR)


@dataclass(frozen=True, slots=True)
class Opportunity:
    symbol: str
    long_venue: str
    short_venue: str
    long_hourly: Decimal
    short_hourly: Decimal
    divergence_hourly: Decimal
    cost_rate: Decimal
    breakeven_hours: Decimal
    net_rate: Decimal  # expected net over the horizon per unit notional
    horizon_hours: Decimal
    observed_at: datetime  # the older of the two legs' observations
    long_mark: Decimal | None = None
    short_mark: Decimal | None = None

    @property
    def apr(self) -> Decimal:
        return self.divergence_hourly * HOURS_PER_YEAR

    def expected_net_usd(self, size_usd: Decimal) -> Decimal:
        return size_usd * self.net_rate

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.symbol, self.long_venue, self.short_venue)


@dataclass(frozen=True, slots=True)
class Exclusion:
    symbol: str
    venue: str | None
    reason: str


@dataclass(frozen=True)
class Ranking:
    opportunities: list[Opportunity]
    excluded: list[Exclusion] = field(default_factory=list)
    # How many pairs passed (with a limit: passed the screen; the exact count is not needed).
    total: int = 0

    def best(self, n: int) -> list[Opportunity]:
        return self.opportunities[:n]


def divergence_hourly(long_rate: FundingRate, short_rate: FundingRate) -> Decimal:
    """What long-on-one, short-on-the-other earns per hour per unit notional."""
    return short_rate.hourly_rate - long_rate.hourly_rate


def evaluate_pair(
    long_rate: FundingRate,
    short_rate: FundingRate,
    fees: FeeSchedule,
    flt: OpportunityFilter,
) -> Opportunity | None:
    """The opportunity of going long on `long_rate`'s venue and short on the other, or None
    if the divergence is not positive. Filters other than that are not applied here."""
    if long_rate.symbol != short_rate.symbol:
        raise ValueError(f"legs on different symbols: {long_rate.symbol} vs {short_rate.symbol}")
    divergence = divergence_hourly(long_rate, short_rate)
    if divergence <= 0:
        return None
    cost = round_trip_cost_rate(
        fees.for_leg(long_rate.venue, long_rate.symbol),
        fees.for_leg(short_rate.venue, short_rate.symbol),
        maker_open=flt.maker_open,
        maker_close=flt.maker_close,
    )
    return _opportunity(long_rate, short_rate, divergence, cost, flt.horizon_hours)


def _opportunity(
    long_rate: FundingRate,
    short_rate: FundingRate,
    divergence: Decimal,
    cost: Decimal,
    horizon: Decimal,
) -> Opportunity:
    return Opportunity(
        symbol=long_rate.symbol,
        long_venue=long_rate.venue,
        short_venue=short_rate.venue,
        long_hourly=long_rate.hourly_rate,
        short_hourly=short_rate.hourly_rate,
        divergence_hourly=divergence,
        cost_rate=cost,
        breakeven_hours=cost / divergence,
        net_rate=divergence * horizon - cost,
        horizon_hours=horizon,
        observed_at=min(long_rate.timestamp, short_rate.timestamp),
        long_mark=long_rate.mark_price,
        short_mark=short_rate.mark_price,
    )


# Float rounding on rates ~1e-4 and horizons ~1e3 is ~1e-16; the screen's tolerance is far
# above that and far below any amount that matters, so it keeps every pair that could pass.
_SCREEN_TOLERANCE = 1e-12


def rank_opportunities(
    rates: Iterable[FundingRate],
    fees: FeeSchedule,
    flt: OpportunityFilter,
    now: datetime,
    limit: int | None = None,
) -> Ranking:
    """Profitable (symbol, long venue, short venue) best first; at most `limit` of them."""
    usable, excluded = _usable_rates(rates, fees, flt, now)
    legs = [rate for by_venue in usable.values() for rate in by_venue.values()]
    opportunities, total = _ranked(
        np.array([rate.symbol for rate in legs]),
        np.array([rate.venue for rate in legs]),
        np.arange(len(legs), dtype=np.int64),
        np.array([float(rate.rate) / float(rate.interval_hours) for rate in legs]),
        lambda handles: {h: legs[h] for h in handles},
        fees,
        flt,
        limit,
    )
    return Ranking(opportunities, excluded, total)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since 1970 UTC, exactly (how a `QuoteScreen` gives observation times)."""
    return (moment - _EPOCH) // _MICROSECOND


def _from_micros(micros: np.int64) -> datetime:
    return _EPOCH + int(micros) * _MICROSECOND


@dataclass(frozen=True, slots=True)
class QuoteScreen:
    """The newest predicted quote per (venue, symbol) as plain columns, one entry per quote.

    What the float screen needs and no more: the stored row's id (to load the exact rate of
    a pair that passes the screen), its hourly rate as a float, when it was observed (exact,
    in `epoch_micros`), and whether its open interest is known and below the filter's
    minimum (decided exactly, in Decimal, by the store).
    """

    ids: Sequence[int]
    venues: Sequence[str]
    symbols: Sequence[str]
    hourly: Sequence[float]
    observed_us: Sequence[int]
    low_open_interest: Sequence[bool]


@runtime_checkable
class ScreenSource(Protocol):
    """A rate store that can answer the ranking with a `QuoteScreen` (the PostgreSQL one:
    `funding_service.store.PostgresFundingRateSource`)."""

    def quote_screen(
        self,
        since: datetime,
        venues: Sequence[str] | None,
        symbols: Sequence[str] | None,
        min_open_interest_usd: Decimal | None,
    ) -> QuoteScreen:
        """The newest predicted quote per (venue, symbol) known since `since`."""
        ...

    def rates_by_id(self, ids: Sequence[int]) -> Mapping[int, FundingRate]:
        """The stored rates with these ids, exactly."""
        ...


def rank_screen(
    screen: QuoteScreen,
    load: Callable[[Sequence[int]], Mapping[int, FundingRate]],
    fees: FeeSchedule,
    flt: OpportunityFilter,
    now: datetime,
    limit: int | None = None,
) -> Ranking:
    """`rank_opportunities` over a `QuoteScreen`: the same ranking, exclusions and total,
    building only the rates of the pairs it evaluates exactly (`load`: rows by id).

    Thousands of quotes, a few dozen exact pairs: turning every stored row into a
    `FundingRate` cost more than the ranking itself, so every per-quote step here is an
    array operation."""
    if not screen.ids:
        return Ranking([], [], 0)
    ids = np.asarray(screen.ids, dtype=np.int64)
    venues, symbols = np.array(screen.venues), np.array(screen.symbols)
    wanted = np.ones(len(ids), dtype=bool)
    if flt.excluded_symbols:
        wanted &= ~np.isin(symbols, sorted(flt.excluded_symbols))
    if flt.excluded_venues:
        wanted &= ~np.isin(venues, sorted(flt.excluded_venues))
    if flt.symbols is not None:
        wanted &= np.isin(symbols, sorted(flt.symbols))
    if flt.venues is not None:
        wanted &= np.isin(venues, sorted(flt.venues))
    observed = np.asarray(screen.observed_us, dtype=np.int64)
    stale = wanted & (observed < epoch_micros(now - flt.max_age))
    thin = wanted & ~stale & np.asarray(screen.low_open_interest, dtype=bool)
    no_fees = wanted & ~stale & ~thin & ~np.isin(venues, sorted(fees.venues))
    excluded = [
        Exclusion(screen.symbols[i], screen.venues[i], _stale(_from_micros(observed[i]), flt))
        for i in np.flatnonzero(stale).tolist()
    ]
    excluded += [
        Exclusion(screen.symbols[i], screen.venues[i], _NO_FEES)
        for i in np.flatnonzero(no_fees).tolist()
    ]
    if thin.any():
        cutoff = now - flt.max_age
        for rate in load([int(i) for i in ids[thin]]).values():
            reason = _unusable_reason(rate, fees, flt, cutoff)
            if reason is not None:
                excluded.append(Exclusion(rate.symbol, rate.venue, reason))
    excluded.sort(key=lambda e: (e.symbol, e.venue or "", e.reason))
    usable = wanted & ~stale & ~thin & ~no_fees
    hourly = np.asarray(screen.hourly, dtype=np.float64)
    opportunities, total = _ranked(
        symbols[usable], venues[usable], ids[usable], hourly[usable], load, fees, flt, limit
    )
    return Ranking(opportunities, excluded, total)


def _ranked(
    symbols: NDArray[np.str_],
    venues: NDArray[np.str_],
    handles: NDArray[np.int64],
    hourly: NDArray[np.float64],
    load: Callable[[Sequence[int]], Mapping[int, FundingRate]],
    fees: FeeSchedule,
    flt: OpportunityFilter,
    limit: int | None,
) -> tuple[list[Opportunity], int]:
    """Screen every pair of the usable quotes (one per symbol and venue: its symbol, venue,
    handle and hourly rate as a float) in float64, then evaluate the best exactly, loading
    their rates by handle. A symbol quoted on one venue only makes no pair."""
    if len(symbols) == 0:
        return [], 0
    symbol_names, rows = np.unique(symbols, return_inverse=True)
    venue_names, columns = np.unique(venues, return_inverse=True)
    if len(venue_names) < 2:
        return [], 0
    # A leg's fees: its venue's, unless the schedule overrides them for its symbol.
    venue_cost = {v: float(_fees_cost(fees.venues[v], flt)) for v in fees.venues}
    leg_costs = np.array([venue_cost[str(v)] for v in venue_names])[columns]
    if fees.overrides:
        overridden = sorted({venue for venue, _ in fees.overrides})
        for i in np.flatnonzero(np.isin(venues, overridden)):
            special = fees.overrides.get((str(venues[i]), str(symbols[i])))
            if special is not None:
                leg_costs[i] = float(_fees_cost(special, flt))
    shape = (len(symbol_names), len(venue_names))
    hourly_m = np.full(shape, np.nan)
    leg_cost = np.zeros(shape)
    handle = np.full(shape, -1, dtype=np.int64)
    hourly_m[rows, columns] = hourly
    leg_cost[rows, columns] = leg_costs
    handle[rows, columns] = handles

    horizon, max_breakeven = float(flt.horizon_hours), float(flt.max_breakeven_hours)
    divergence = hourly_m[:, None, :] - hourly_m[:, :, None]  # [symbol, long, short]
    cost = leg_cost[:, :, None] + leg_cost[:, None, :]
    net = divergence * horizon - cost
    with np.errstate(invalid="ignore"):
        keep = (
            (divergence > 0)
            & (divergence >= float(flt.min_divergence_hourly) - _SCREEN_TOLERANCE)
            & (net > -_SCREEN_TOLERANCE)
            & (cost <= divergence * max_breakeven + _SCREEN_TOLERANCE)
        )
    s_idx, l_idx, r_idx = np.nonzero(keep)
    screened = net[s_idx, l_idx, r_idx]
    order = np.argsort(-screened, kind="stable")
    long_h, short_h = handle[s_idx, l_idx], handle[s_idx, r_idx]
    # Exact rates are loaded a chunk of candidates at a time: with a limit, the first
    # chunk nearly always settles the ranking.
    chunk = max(1, len(order)) if limit is None else max(64, 4 * limit)
    rates: dict[int, FundingRate] = {}

    exact: list[Opportunity] = []
    floor: float | None = None  # screened net of the worst result we must still beat
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        wanted = {int(h) for h in np.concatenate((long_h[part], short_h[part]))} - rates.keys()
        if wanted:
            rates.update(load(sorted(wanted)))
        for k in part:
            value = float(screened[k])
            if floor is not None and value < floor - _SCREEN_TOLERANCE:
                break
            opp = _exact(rates[int(long_h[k])], rates[int(short_h[k])], fees, flt)
            if opp is None:
                continue
            exact.append(opp)
            if limit is not None and len(exact) >= limit:
                exact.sort(key=_rank_key)
                floor = float(exact[limit - 1].net_rate)
        else:
            continue
        break
    exact.sort(key=_rank_key)
    total = len(exact) if limit is None else int(keep.sum())
    return (exact if limit is None else exact[:limit]), total


def _rank_key(o: Opportunity) -> tuple[Decimal, Decimal, tuple[str, str, str]]:
    return (-o.net_rate, o.breakeven_hours, o.key)


def _leg_cost(fees: FeeSchedule, venue: str, symbol: str, flt: OpportunityFilter) -> Decimal:
    return _fees_cost(fees.for_leg(venue, symbol), flt)


def _fees_cost(venue_fees: VenueFees, flt: OpportunityFilter) -> Decimal:
    open_fee = venue_fees.maker if flt.maker_open else venue_fees.taker
    close_fee = venue_fees.maker if flt.maker_close else venue_fees.taker
    return open_fee + close_fee


def _exact(
    long_rate: FundingRate, short_rate: FundingRate, fees: FeeSchedule, flt: OpportunityFilter
) -> Opportunity | None:
    """The exact Decimal evaluation of a screened pair, or None if it fails a filter."""
    divergence = divergence_hourly(long_rate, short_rate)
    if divergence <= 0 or divergence < flt.min_divergence_hourly:
        return None
    cost = _leg_cost(fees, long_rate.venue, long_rate.symbol, flt) + _leg_cost(
        fees, short_rate.venue, short_rate.symbol, flt
    )
    opp = _opportunity(long_rate, short_rate, divergence, cost, flt.horizon_hours)
    if opp.net_rate <= 0 or opp.breakeven_hours > flt.max_breakeven_hours:
        return None
    return opp


def _usable_rates(
    rates: Iterable[FundingRate], fees: FeeSchedule, flt: OpportunityFilter, now: datetime
) -> tuple[dict[str, dict[str, FundingRate]], list[Exclusion]]:
    """The newest rate per (symbol, venue) that passes the per-venue filters, and why the
    others were left out (deliberate exclusions are not reported)."""
    newest: dict[str, dict[str, FundingRate]] = {}
    predicted = FundingKind.PREDICTED
    for rate in rates:
        if rate.kind is not predicted:
            raise ValueError(
                f"the ranking reads predicted quotes; got a {rate.kind} rate of "
                f"{rate.venue} {rate.symbol}-{rate.margin_asset}"
            )
        symbol, venue = rate.symbol, rate.venue
        if not _wanted(flt, symbol, venue):
            continue
        by_venue = newest.get(symbol)
        if by_venue is None:
            by_venue = newest[symbol] = {}
        current = by_venue.get(venue)
        if current is None or rate.timestamp > current.timestamp:
            by_venue[venue] = rate

    cutoff = now - flt.max_age
    usable: dict[str, dict[str, FundingRate]] = {}
    excluded: list[Exclusion] = []
    for symbol, by_venue in newest.items():
        for venue, rate in by_venue.items():
            reason = _unusable_reason(rate, fees, flt, cutoff)
            if reason is None:
                usable.setdefault(symbol, {})[venue] = rate
            else:
                excluded.append(Exclusion(symbol, venue, reason))
    excluded.sort(key=lambda e: (e.symbol, e.venue or "", e.reason))
    return {s: v for s, v in usable.items() if len(v) >= 2}, excluded


_NO_FEES = "no fee schedule for venue"


def _wanted(flt: OpportunityFilter, symbol: str, venue: str) -> bool:
    """Whether the filter's symbol and venue choices let this quote in at all."""
    if symbol in flt.excluded_symbols or venue in flt.excluded_venues:
        return False
    return (flt.symbols is None or symbol in flt.symbols) and (
        flt.venues is None or venue in flt.venues
    )


def _stale(observed_at: datetime, flt: OpportunityFilter) -> str:
    return f"stale: observed {observed_at.isoformat()}, older than {flt.max_age}"


def _unusable_reason(
    rate: FundingRate, fees: FeeSchedule, flt: OpportunityFilter, cutoff: datetime
) -> str | None:
    if rate.timestamp < cutoff:
        return _stale(rate.timestamp, flt)
    if (
        flt.min_open_interest_usd is not None
        and rate.open_interest_usd is not None
        and rate.open_interest_usd < flt.min_open_interest_usd
    ):
        return f"open interest {rate.open_interest_usd} below {flt.min_open_interest_usd}"
    if not fees.knows(rate.venue):
        return _NO_FEES
    return None

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

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from core.market import HOURS_PER_YEAR, FundingKind, FundingRate
from core.money import ZERO
from funding_service.fees import FeeSchedule, round_trip_cost_rate


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
    symbols = sorted(usable)
    venues = sorted({venue for by_venue in usable.values() for venue in by_venue})
    if not symbols or len(venues) < 2:
        return Ranking([], excluded, 0)
    column = {venue: k for k, venue in enumerate(venues)}
    hourly = np.full((len(symbols), len(venues)), np.nan)
    leg_cost = np.zeros((len(symbols), len(venues)))
    for row, symbol in enumerate(symbols):
        for venue, rate in usable[symbol].items():
            hourly[row, column[venue]] = float(rate.rate) / float(rate.interval_hours)
            leg_cost[row, column[venue]] = float(_leg_cost(fees, venue, symbol, flt))

    horizon, max_breakeven = float(flt.horizon_hours), float(flt.max_breakeven_hours)
    divergence = hourly[:, None, :] - hourly[:, :, None]  # [symbol, long, short]
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
    order = np.argsort(-net[s_idx, l_idx, r_idx], kind="stable")

    exact: list[Opportunity] = []
    floor: float | None = None  # screened net of the worst result we must still beat
    for k in order:
        screened = float(net[s_idx[k], l_idx[k], r_idx[k]])
        if floor is not None and screened < floor - _SCREEN_TOLERANCE:
            break
        symbol = symbols[s_idx[k]]
        long_rate = usable[symbol][venues[l_idx[k]]]
        short_rate = usable[symbol][venues[r_idx[k]]]
        opp = _exact(long_rate, short_rate, fees, flt)
        if opp is None:
            continue
        exact.append(opp)
        if limit is not None and len(exact) >= limit:
            exact.sort(key=_rank_key)
            floor = float(exact[limit - 1].net_rate)
    exact.sort(key=_rank_key)
    total = len(exact) if limit is None else int(keep.sum())
    return Ranking(exact if limit is None else exact[:limit], excluded, total)


def _rank_key(o: Opportunity) -> tuple[Decimal, Decimal, tuple[str, str, str]]:
    return (-o.net_rate, o.breakeven_hours, o.key)


def _leg_cost(fees: FeeSchedule, venue: str, symbol: str, flt: OpportunityFilter) -> Decimal:
    venue_fees = fees.for_leg(venue, symbol)
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
    for rate in rates:
        if rate.kind is not FundingKind.PREDICTED:
            raise ValueError(
                f"the ranking reads predicted quotes; got a {rate.kind} rate of "
                f"{rate.venue} {rate.symbol}-{rate.margin_asset}"
            )
        if rate.symbol in flt.excluded_symbols or rate.venue in flt.excluded_venues:
            continue
        if (flt.symbols is not None and rate.symbol not in flt.symbols) or (
            flt.venues is not None and rate.venue not in flt.venues
        ):
            continue
        by_venue = newest.setdefault(rate.symbol, {})
        current = by_venue.get(rate.venue)
        if current is None or rate.timestamp > current.timestamp:
            by_venue[rate.venue] = rate

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


def _unusable_reason(
    rate: FundingRate, fees: FeeSchedule, flt: OpportunityFilter, cutoff: datetime
) -> str | None:
    if rate.timestamp < cutoff:
        return f"stale: observed {rate.timestamp.isoformat()}, older than {flt.max_age}"
    if (
        flt.min_open_interest_usd is not None
        and rate.open_interest_usd is not None
        and rate.open_interest_usd < flt.min_open_interest_usd
    ):
        return f"open interest {rate.open_interest_usd} below {flt.min_open_interest_usd}"
    if not fees.knows(rate.venue):
        return "no fee schedule for venue"
    return None

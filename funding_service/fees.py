"""The fee model of a hedged funding-arbitrage position.

A position is two legs: long on venue L, short on venue S. Opening it pays a fee on both legs
and closing it pays again, so the round-trip cost, as a fraction of the position's notional,
is

    c = (fee_open_L + fee_open_S) + (fee_close_L + fee_close_S) + slippage

where each fee is the venue's taker (or maker) rate, and slippage is the half-spread paid on
every leg at open and close when it is estimated from the top of book. With divergence `d`
(hourly, see `funding_service.opportunities`), a position earns `d` per hour per unit
notional, so

    breakeven_hours = c / d
    expected_net(H) = size * (d * H - c)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from core.market import Instrument, TopOfBook
from core.money import ZERO


@dataclass(frozen=True, slots=True)
class VenueFees:
    maker: Decimal
    taker: Decimal

    def __post_init__(self) -> None:
        if self.taker < 0:
            raise ValueError(f"taker fee must not be negative, got {self.taker}")
        if self.maker > self.taker:
            raise ValueError(f"maker fee {self.maker} above taker fee {self.taker}")


@dataclass(frozen=True)
class FeeSchedule:
    """Fees per venue, with optional per-(venue, symbol) overrides."""

    venues: Mapping[str, VenueFees]
    overrides: Mapping[tuple[str, str], VenueFees] = field(default_factory=dict)

    @classmethod
    def from_instruments(cls, instruments: Iterable[Instrument]) -> FeeSchedule:
        """Venue default = the most common fee among its instruments; others are overrides."""
        by_venue: dict[str, dict[VenueFees, int]] = {}
        per_symbol: dict[tuple[str, str], VenueFees] = {}
        for inst in instruments:
            fees = VenueFees(maker=inst.maker_fee, taker=inst.taker_fee)
            counts = by_venue.setdefault(inst.venue, {})
            counts[fees] = counts.get(fees, 0) + 1
            per_symbol[(inst.venue, inst.symbol)] = fees
        venues = {v: max(c.items(), key=lambda kv: kv[1])[0] for v, c in by_venue.items()}
        overrides = {k: f for k, f in per_symbol.items() if venues[k[0]] != f}
        return cls(venues=venues, overrides=overrides)

    def for_leg(self, venue: str, symbol: str) -> VenueFees:
        fees = self.overrides.get((venue, symbol)) or self.venues.get(venue)
        if fees is None:
            raise KeyError(f"no fees known for venue {venue!r}")
        return fees

    def knows(self, venue: str) -> bool:
        return venue in self.venues


def leg_fee_rate(fees: VenueFees, maker: bool = False) -> Decimal:
    return fees.maker if maker else fees.taker


def round_trip_cost_rate(
    long_fees: VenueFees,
    short_fees: VenueFees,
    *,
    maker_open: bool = False,
    maker_close: bool = False,
    slippage_rate: Decimal = ZERO,
) -> Decimal:
    """Cost of opening and closing both legs, as a fraction of notional (see module doc)."""
    open_cost = leg_fee_rate(long_fees, maker_open) + leg_fee_rate(short_fees, maker_open)
    close_cost = leg_fee_rate(long_fees, maker_close) + leg_fee_rate(short_fees, maker_close)
    return open_cost + close_cost + slippage_rate


def half_spread_rate(book: TopOfBook) -> Decimal:
    """What crossing the spread costs one market order, as a fraction of mid."""
    mid = book.mid
    if mid <= 0 or book.ask < book.bid:
        raise ValueError(f"{book.venue} {book.symbol}: crossed or empty book {book.bid}/{book.ask}")
    return (book.ask - book.bid) / 2 / mid


def slippage_from_books(long_book: TopOfBook, short_book: TopOfBook) -> Decimal:
    """Half-spread on both legs, paid at open and again at close."""
    return 2 * (half_spread_rate(long_book) + half_spread_rate(short_book))


def breakeven_hours(cost_rate: Decimal, divergence_hourly: Decimal) -> Decimal | None:
    """Hours of holding until funding pays back the round trip; None if it never does."""
    if divergence_hourly <= 0:
        return None
    return cost_rate / divergence_hourly


def expected_net(
    size_usd: Decimal, divergence_hourly: Decimal, horizon_hours: Decimal, cost_rate: Decimal
) -> Decimal:
    """USD expected over the horizon after the round-trip cost."""
    return size_usd * (divergence_hourly * horizon_hours - cost_rate)

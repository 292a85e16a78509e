"""A position's legs as monitoring and the funding collector last saw them.

The mark and next funding time of a leg are the funding collector's latest quote for its
venue and symbol (`funding_rates`, predicted); sizes and entry prices are the position's
row, written by monitoring. On paper venues the leg's isolated margin is the paper
account's position (`paper_positions`, the account's net on that symbol) and its
liquidation price is the paper venue's own formula over it. Live venues' margins and
liquidation prices are not stored by perpbot, so they stay empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.market import FundingKind, FundingRate
from dashboard.readmodel.scope import Scope
from db.models import StrategyPosition
from db.repositories.funding_rates import FundingRateRepository
from exchanges.simulation.margin import PositionState, liquidation_price
from exchanges.venues import symbol_spec

QUOTE_LOOKBACK = timedelta(hours=24)

# The (venue, account, symbol) triples as three arrays: one plan whatever their number.
_HOLDINGS = text(
    """
SELECT a.venue, a.account, p.symbol, p.qty, p.entry_price, p.margin
FROM unnest(CAST(:venues AS varchar[]), CAST(:accounts AS varchar[]),
            CAST(:symbols AS varchar[])) AS wanted(venue, account, symbol)
JOIN paper_accounts a ON a.venue = wanted.venue AND a.account = wanted.account
JOIN paper_positions p ON p.account_id = a.id AND p.symbol = wanted.symbol
"""
)


@dataclass(frozen=True, slots=True)
class VenueHolding:
    """A paper account's net position on one symbol."""

    qty: Decimal
    entry_price: Decimal
    margin: Decimal


@dataclass(frozen=True, slots=True)
class LegView:
    side: str  # "long" or "short"
    venue: str
    symbol: str
    account: str | None
    qty: Decimal  # signed: > 0 long
    entry_price: Decimal | None
    funding_usd: Decimal
    quote: FundingRate | None  # the latest collected quote: mark, interval, next funding
    holding: VenueHolding | None  # paper venues only

    @property
    def mark(self) -> Decimal | None:
        return self.quote.mark_price if self.quote is not None else None

    @property
    def unrealized_pnl(self) -> Decimal | None:
        if self.mark is None or self.entry_price is None:
            return None
        return self.qty * (self.mark - self.entry_price)

    @property
    def margin(self) -> Decimal | None:
        return self.holding.margin if self.holding is not None else None

    @property
    def liquidation_price(self) -> Decimal | None:
        if self.holding is None or self.holding.qty == 0:
            return None
        state = PositionState(self.holding.qty, self.holding.entry_price, self.holding.margin)
        return liquidation_price(state, symbol_spec(self.symbol).maintenance_margin_rate)

    @property
    def liquidation_distance(self) -> Decimal | None:
        """How far the mark may move against the leg before liquidation, as a fraction."""
        price, mark = self.liquidation_price, self.mark
        if price is None or mark is None or mark == 0:
            return None
        return abs(mark - price) / mark

    @property
    def shared_with_others(self) -> bool:
        """The venue account's net differs from this leg: another position (or a manual
        trade) holds the same symbol on the same account."""
        return self.holding is not None and self.holding.qty != self.qty


@dataclass(frozen=True, slots=True)
class LegSources:
    """Quotes and paper holdings for a set of positions, read in two queries."""

    quotes: dict[tuple[str, str], FundingRate]
    holdings: dict[tuple[str, str, str], VenueHolding]  # (venue, account, symbol)

    def legs(self, position: StrategyPosition, scope: Scope) -> list[LegView]:
        legs = []
        for side, venue, qty, entry, funding in (
            (
                "long",
                position.long_dex,
                position.long_qty,
                position.long_entry_price,
                position.long_funding_usd,
            ),
            (
                "short",
                position.short_dex,
                -position.short_qty,
                position.short_entry_price,
                position.short_funding_usd,
            ),
        ):
            if venue is None:
                continue
            account = scope.account_of(position.strategy_name, venue)
            legs.append(
                LegView(
                    side,
                    venue,
                    position.symbol,
                    account,
                    qty,
                    entry,
                    funding,
                    self.quotes.get((venue, position.symbol)),
                    self.holdings.get((venue, account or "", position.symbol)),
                )
            )
        return legs


def leg_sources(
    session: Session, scope: Scope, positions: Iterable[StrategyPosition]
) -> LegSources:
    positions = list(positions)
    if not positions:
        return LegSources({}, {})
    pairs = {(v, p.symbol) for p in positions for v in (p.long_dex, p.short_dex) if v}
    quotes = {
        (q.venue, q.symbol): q
        for q in FundingRateRepository(session).newest_per_pair(
            scope.now - QUOTE_LOOKBACK, pairs, kind=FundingKind.PREDICTED
        )
    }
    holdings: dict[tuple[str, str, str], VenueHolding] = {}
    if scope.paper:
        wanted = {
            (v, scope.account_of(p.strategy_name, v) or "", p.symbol)
            for p in positions
            for v in (p.long_dex, p.short_dex)
            if v
        }
        wanted_sorted = sorted(wanted)
        for venue, account, symbol, qty, entry, margin in session.execute(
            _HOLDINGS,
            {
                "venues": [w[0] for w in wanted_sorted],
                "accounts": [w[1] for w in wanted_sorted],
                "symbols": [w[2] for w in wanted_sorted],
            },
        ):
            holdings[(venue, account, symbol)] = VenueHolding(qty, entry, margin)
    return LegSources(quotes, holdings)


def quote_time(legs: list[LegView]) -> datetime | None:
    """The oldest quote behind the legs' marks (what "as of" the marks are)."""
    times = [leg.quote.timestamp for leg in legs if leg.quote is not None]
    return min(times) if times else None

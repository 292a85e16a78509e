"""What each phase reads before it decides: one snapshot type per phase, one reader.

A snapshot holds everything the phase's pure decision code looks at — positions as stored,
the venues' positions (one call per venue), funding histories, the ranking, divergences,
books and accounts — so that deciding never calls a venue or a store. Reading failures a
decision can act on (a venue down, no ranking) are kept in the snapshot, not raised.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.enums import PositionStatus
from exchanges.base import Balance, ExchangeError
from funding_service.opportunities import Opportunity, Ranking
from strategies.components.base_components import PositionManager, PositionRecord
from strategies.implementations.funding_arbitrage.entry import LegMarket
from strategies.implementations.funding_arbitrage.market_data import MarketData
from strategies.implementations.funding_arbitrage.models import Leg, PhaseSkipped
from strategies.implementations.funding_arbitrage.position_manager import (
    FundingLedger,
    FundingPass,
    VenuePositions,
    VenueSnapshot,
    position_venues,
)

logger = logging.getLogger(__name__)

UNFINISHED = (PositionStatus.OPENING, PositionStatus.CLOSING, PositionStatus.NEEDS_RECONCILE)


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """The open positions, their venues' positions and funding, and each one's divergence."""

    positions: tuple[PositionRecord, ...]
    venues: Mapping[str, VenueSnapshot]
    funding: FundingPass
    divergence: Mapping[uuid.UUID, Decimal | None]  # hourly, None without a fresh rate


@dataclass(frozen=True, slots=True)
class VenueCheck:
    """What reconciliation against the venues looks at, before any phase trades: the
    strategy's active positions, what every one of its venue accounts holds, and the
    minimum order size of each symbol held where no position has a leg (less is dust)."""

    open_positions: tuple[PositionRecord, ...]
    active: tuple[PositionRecord, ...]
    venues: Mapping[str, VenueSnapshot]
    dust: Mapping[tuple[str, str], Decimal]  # (venue, symbol) -> min order size


@dataclass(frozen=True, slots=True)
class RebalanceSnapshot:
    """What the rebalance policy of each target position looks at."""

    venues: Mapping[str, VenueSnapshot]
    ranking: Ranking | None  # None: the ranking could not be read (policies that need none run)
    divergence: Mapping[uuid.UUID, Decimal | None]
    close_cost: Mapping[uuid.UUID, Decimal]
    horizon_hours: Decimal


@dataclass(frozen=True, slots=True)
class OpenCandidate:
    """One ranked pair about to be decided: the strategy's active positions, and both legs'
    instrument, book and account (or why they could not be read)."""

    opportunity: Opportunity
    active: tuple[PositionRecord, ...]
    legs: Mapping[Leg, LegMarket]
    unavailable: str | None = None


class SnapshotReader:
    """Reads the snapshots of one strategy's phases."""

    def __init__(
        self,
        strategy_name: str,
        positions: PositionManager,
        market: MarketData,
        venues: VenuePositions,
        funding: FundingLedger,
    ) -> None:
        self._name = strategy_name
        self._positions = positions
        self._market = market
        self._venues = venues
        self._funding = funding

    def unfinished(self) -> list[PositionRecord]:
        return self._positions.find(self._name, UNFINISHED)

    def open_positions(self) -> list[PositionRecord]:
        return self._positions.find(self._name, [PositionStatus.OPEN])

    def active(self) -> tuple[PositionRecord, ...]:
        return tuple(self._positions.find_active(self._name))

    def failed(self, symbol: str) -> tuple[PositionRecord, ...]:
        """The strategy's FAILED positions on `symbol` (for the failed-open cooldown)."""
        return tuple(self._positions.find(self._name, [PositionStatus.FAILED], symbol))

    def venue_check(self, venues: Sequence[str]) -> VenueCheck:
        """One `positions()` call per venue account of the strategy (`venues`)."""
        active = self.active()
        held = self._venues.read(venues)
        in_use = {(v, p.symbol) for p in active for v in position_venues(p)}
        dust: dict[tuple[str, str], Decimal] = {}
        for venue, snapshot in held.items():
            for symbol in snapshot.positions:
                if (venue, symbol) in in_use:
                    continue
                try:
                    dust[(venue, symbol)] = self._market.instrument(venue, symbol).min_qty
                except (ExchangeError, LookupError):  # unknown instrument: nothing is dust
                    dust[(venue, symbol)] = Decimal(0)
        return VenueCheck(
            open_positions=tuple(p for p in active if p.status is PositionStatus.OPEN),
            active=active,
            venues=held,
            dust=dust,
        )

    def monitor(
        self, now: datetime, venues: Mapping[str, VenueSnapshot] | None = None
    ) -> MonitorSnapshot:
        """The monitor's snapshot; `venues` already read (by `venue_check`) are reused."""
        positions = self.open_positions()
        needed = {v for p in positions for v in position_venues(p)}
        if venues is None or not needed <= venues.keys():
            venues = self._venues.read(needed)
        return MonitorSnapshot(
            positions=tuple(positions),
            venues=venues,
            funding=self._funding.read(positions),
            divergence={p.id: self._market.divergence(now, p) for p in positions},
        )

    def rebalance(self, now: datetime, targets: Sequence[PositionRecord]) -> RebalanceSnapshot:
        try:
            ranking: Ranking | None = self._market.ranked(now)
        except ExchangeError as exc:  # policies that need no alternatives still run
            logger.warning("%s: ranking unavailable for rebalance: %s", self._name, exc)
            ranking = None
        return RebalanceSnapshot(
            venues=self._venues.read(v for p in targets for v in position_venues(p)),
            ranking=ranking,
            divergence={p.id: self._market.divergence(now, p) for p in targets},
            close_cost={p.id: self._market.close_cost_rate(p) for p in targets},
            horizon_hours=self._market.opportunity_filter().horizon_hours,
        )

    def ranking(self, now: datetime) -> Ranking:
        return self._market.ranked(now)

    def open_candidate(self, opportunity: Opportunity) -> OpenCandidate:
        active = self.active()
        symbol = opportunity.symbol
        try:
            legs = {
                leg: LegMarket(
                    self._market.instrument(venue, symbol),
                    self._market.book(venue, symbol),
                    self._market.account(venue),
                )
                for leg, venue in (
                    (Leg.LONG, opportunity.long_venue),
                    (Leg.SHORT, opportunity.short_venue),
                )
            }
        except (ExchangeError, LookupError) as exc:
            return OpenCandidate(opportunity, active, {}, f"venue data unavailable: {exc}")
        return OpenCandidate(opportunity, active, legs)

    def balances(self, venues: Sequence[str]) -> tuple[dict[str, Balance], list[PhaseSkipped]]:
        """Each venue's balance; a venue that cannot say is skipped, with why."""
        balances: dict[str, Balance] = {}
        skipped: list[PhaseSkipped] = []
        for venue in venues:
            try:
                balances[venue] = self._market.balance(venue)
            except ExchangeError as exc:
                skipped.append(PhaseSkipped("transfers", f"{venue}: {exc}"))
        return balances, skipped

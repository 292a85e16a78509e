"""Position tracking for funding arbitrage: legs as the venues see them, funding per leg.

The shared `PositionManager` stores positions; this module adds what a hedged position
needs on top of it:

- `VenuePositions`: one `positions()` call per venue for a whole pass (never one per
  position), failures kept per venue so one venue down does not blind the others; each
  leg as its venue reports it (`leg_states`) and whether the venue still holds what the
  position says (`hedge_mismatch`: a liquidated leg shows up here);
- `FundingLedger`: the funding each venue actually paid or charged on each leg since the
  last payment stored — read once per venue per pass (`read`), picked per position by pure
  code (`new_payments`), recorded once per (position, venue, funding time) with the totals
  `long_funding_usd` / `short_funding_usd` recomputed from the stored payments (`record`),
  so a crash between the two steps is repaired by the next pass.

A venue account must be dedicated to the strategy, and the strategy holds at most one leg per
(venue, symbol) at a time: a venue's position and funding on a symbol are therefore exactly
those of the one position with a leg there, from its creation until it is closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from exchanges.base import (
    ExchangeError,
    FundingHistory,
    FundingPayment,
    Position,
)
from strategies.components.base_components import (
    FundingLegSummary,
    FundingPaymentRecord,
    FundingPaymentStore,
    PositionManager,
    PositionRecord,
    PositionUpdate,
    StrategyAudit,
    VenueClients,
)
from strategies.implementations.funding_arbitrage.models import Leg, LegState, qty_text

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class VenueSnapshot:
    """Positions of one venue account by symbol, or why they could not be read."""

    venue: str
    positions: Mapping[str, Position]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class VenueFunding:
    """Funding payments of one venue account by symbol since a time, or why they could not be
    read. One per venue per pass: positions take their own from it."""

    venue: str
    by_symbol: Mapping[str, list[FundingPayment]]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FundingPass:
    """What one pass read once for all its positions: each venue's funding history and each
    position's stored funding summary."""

    venues: Mapping[str, VenueFunding]
    summaries: Mapping[uuid.UUID, Mapping[str, FundingLegSummary]]


def leg_venue(position: PositionRecord, leg: Leg) -> str:
    venue = position.long_dex if leg is Leg.LONG else position.short_dex
    if venue is None:
        raise ValueError(f"position {position.id} has no {leg.label} leg")
    return venue


def position_venues(position: PositionRecord) -> set[str]:
    return {leg_venue(position, leg) for leg in Leg}


# ---------------------------------------------------------------- legs on the venues


class VenuePositions:
    """Reads what the venues hold."""

    def __init__(self, venues: VenueClients) -> None:
        self._venues = venues

    def read(self, venues: Iterable[str]) -> dict[str, VenueSnapshot]:
        snapshots: dict[str, VenueSnapshot] = {}
        for venue in sorted(set(venues)):
            try:
                held = {p.symbol: p for p in self._venues.client(venue).positions() if p.qty != 0}
                snapshots[venue] = VenueSnapshot(venue, held)
            except ExchangeError as exc:
                snapshots[venue] = VenueSnapshot(venue, {}, f"{type(exc).__name__}: {exc}")
        return snapshots


def leg_states(
    position: PositionRecord, snapshots: Mapping[str, VenueSnapshot]
) -> dict[Leg, LegState]:
    states = {}
    for leg in Leg:
        venue = leg_venue(position, leg)
        held = snapshots[venue].positions.get(position.symbol)
        states[leg] = LegState(
            leg=leg,
            venue=venue,
            symbol=position.symbol,
            qty=held.qty if held else ZERO,
            mark_price=held.mark_price if held else None,
            unrealized_pnl=held.unrealized_pnl if held else ZERO,
            liquidation_price=held.liquidation_price if held else None,
            margin=held.margin if held else ZERO,
        )
    return states


def hedge_mismatch(position: PositionRecord, legs: Mapping[Leg, LegState]) -> str | None:
    """None when both venues hold exactly the position's legs, else what differs."""
    problems = []
    for leg, expected in ((Leg.LONG, position.long_qty), (Leg.SHORT, position.short_qty)):
        state = legs[leg]
        if state.held != expected:
            problems.append(
                f"{leg.label} leg: {state.venue} holds {qty_text(state.qty)} "
                f"{position.symbol}, position expects {qty_text(expected * leg.sign)}"
            )
    return "; ".join(problems) or None


def venues_down(position: PositionRecord, snapshots: Mapping[str, VenueSnapshot]) -> list[str]:
    """`venue: error` for each of the position's venues that could not be read."""
    return [
        f"{venue}: {snapshots[venue].error}"
        for venue in (position.long_dex, position.short_dex)
        if venue is not None and snapshots[venue].error
    ]


# ---------------------------------------------------------------- funding


def _funding_since(
    position: PositionRecord, summary: Mapping[str, FundingLegSummary]
) -> dict[str, datetime]:
    """Per leg venue: the funding time after which payments are new for this position."""
    since = {}
    for leg in Leg:
        venue = leg_venue(position, leg)
        seen = summary.get(venue)
        since[venue] = seen.last_funding_time if seen is not None else position.created_at
    return since


def new_payments(
    position: PositionRecord, funding: FundingPass
) -> tuple[list[FundingPaymentRecord], list[str]]:
    """The payments of both legs settled since the last one stored (pure), and the legs
    whose venue could not report funding, with why."""
    since_by_venue = _funding_since(position, funding.summaries[position.id])
    new: list[FundingPaymentRecord] = []
    missing: list[str] = []
    for leg in Leg:
        venue = leg_venue(position, leg)
        paid = funding.venues.get(venue)
        if paid is None or paid.error is not None:
            missing.append(f"{venue}: {paid.error if paid is not None else 'not fetched'}")
            continue
        new += [
            FundingPaymentRecord(
                position_id=position.id,
                strategy_name=position.strategy_name,
                venue=venue,
                symbol=position.symbol,
                funding_time=p.funding_time,
                rate=p.rate,
                position_qty=p.position_qty,
                mark_price=p.mark_price,
                amount_usd=p.amount,
            )
            for p in paid.by_symbol.get(position.symbol, [])
            if p.funding_time > since_by_venue[venue]
        ]
    return new, missing


class FundingLedger:
    """Funding per leg: read from the venues, stored once per payment, totalled per leg."""

    def __init__(
        self,
        positions: PositionManager,
        payments: FundingPaymentStore,
        venues: VenueClients,
        audit: StrategyAudit,
    ) -> None:
        self._positions = positions
        self._payments = payments
        self._venues = venues
        self._audit = audit

    def read(self, positions: Sequence[PositionRecord]) -> FundingPass:
        """One funding-history call per venue for the whole pass (never one per leg), from
        the oldest time any of `positions` still needs there."""
        summaries = {p.id: self._payments.summary(p.id) for p in positions}
        oldest: dict[str, datetime] = {}
        for position in positions:
            for venue, since in _funding_since(position, summaries[position.id]).items():
                oldest[venue] = min(since, oldest.get(venue, since))
        fetched: dict[str, VenueFunding] = {}
        for venue in sorted(oldest):
            client = self._venues.client(venue)
            if not isinstance(client, FundingHistory):
                fetched[venue] = VenueFunding(
                    venue, {}, "the venue client cannot list funding payments"
                )
                continue
            try:
                paid = client.funding_payments(None, oldest[venue])
            except ExchangeError as exc:
                fetched[venue] = VenueFunding(venue, {}, str(exc))
                continue
            by_symbol: dict[str, list[FundingPayment]] = {}
            for payment in paid:
                by_symbol.setdefault(payment.symbol, []).append(payment)
            fetched[venue] = VenueFunding(venue, by_symbol)
        return FundingPass(fetched, summaries)

    def record(
        self,
        position: PositionRecord,
        payments: Sequence[FundingPaymentRecord],
        summary: Mapping[str, FundingLegSummary],
    ) -> tuple[PositionRecord, list[FundingPaymentRecord]]:
        """Store `payments` (those already stored are skipped) and return the position with
        its per-leg totals recomputed (not saved: the caller writes them with its own
        changes) and the payments that were new."""
        new = self._payments.record(payments)
        totals = {venue: s.total_usd for venue, s in summary.items()}
        for payment in new:
            totals[payment.venue] = totals.get(payment.venue, ZERO) + payment.amount_usd
        long_total = totals.get(leg_venue(position, Leg.LONG), ZERO)
        short_total = totals.get(leg_venue(position, Leg.SHORT), ZERO)
        if new:
            self._audit.position(
                "funding.received",
                position.id,
                {
                    "payments": [
                        {"venue": p.venue, "at": p.funding_time, "amount_usd": p.amount_usd}
                        for p in new
                    ],
                    "long_funding_usd": long_total,
                    "short_funding_usd": short_total,
                },
            )
        totalled = replace(position, long_funding_usd=long_total, short_funding_usd=short_total)
        return totalled, new

    def settle(self, position: PositionRecord) -> PositionRecord:
        """Record every new payment of one position and save its totals (before a close)."""
        funding = self.read([position])
        payments, _missing = new_payments(position, funding)
        totalled, _new = self.record(position, payments, funding.summaries[position.id])
        if (totalled.long_funding_usd, totalled.short_funding_usd) == (
            position.long_funding_usd,
            position.short_funding_usd,
        ):
            return position
        return self._positions.update(
            position.id,
            PositionUpdate(
                long_funding_usd=totalled.long_funding_usd,
                short_funding_usd=totalled.short_funding_usd,
            ),
        )

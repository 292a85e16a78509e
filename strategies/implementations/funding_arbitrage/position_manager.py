"""Position tracking for funding arbitrage: legs as the venues see them, funding per leg.

The shared `PositionManager` stores positions; this class adds what a hedged position
needs on top of it:

- `venue_positions`: one `positions()` call per venue for the whole monitoring pass (never
  one per position), failures kept per venue so one venue down does not blind the others;
- `leg_states` / `hedge_mismatch`: each leg as its venue reports it, and whether the venue
  still holds what the position says (a liquidated leg shows up here);
- `sync_funding`: the funding each venue actually paid or charged on each leg since the
  last payment stored, recorded once per (position, venue, funding time), and the totals
  `long_funding_usd` / `short_funding_usd` recomputed from the stored payments (so a crash
  between the two steps is repaired by the next pass).

A venue account must be dedicated to the strategy, and the strategy holds at most one leg per
(venue, symbol) at a time: a venue's position and funding on a symbol are therefore exactly
those of the one position with a leg there, from its creation until it is closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from exchanges.base import (
    ExchangeClient,
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
)
from strategies.implementations.funding_arbitrage.models import Leg, LegState

ZERO = Decimal(0)
EventRecorder = Callable[[str, uuid.UUID, Mapping[str, object]], None]


@dataclass(frozen=True, slots=True)
class VenueFunding:
    """Funding payments of one venue account by symbol since a time, or why they could not be
    read. One per venue per monitoring pass: positions take their own from it."""

    venue: str
    by_symbol: Mapping[str, list[FundingPayment]]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FundingPass:
    """What one monitoring pass read once for all its positions: each venue's funding
    history and each position's stored funding summary."""

    venues: Mapping[str, VenueFunding]
    summaries: Mapping[uuid.UUID, Mapping[str, FundingLegSummary]]


@dataclass(frozen=True, slots=True)
class VenueSnapshot:
    """Positions of one venue account by symbol, or why they could not be read."""

    venue: str
    positions: Mapping[str, Position]
    error: str | None = None


def leg_venue(position: PositionRecord, leg: Leg) -> str:
    venue = position.long_dex if leg is Leg.LONG else position.short_dex
    if venue is None:
        raise ValueError(f"position {position.id} has no {leg.label} leg")
    return venue


class ArbitragePositions:
    def __init__(
        self,
        strategy_name: str,
        positions: PositionManager,
        payments: FundingPaymentStore,
        exchange: Callable[[str], ExchangeClient],
        record_event: EventRecorder,
    ) -> None:
        self._strategy = strategy_name
        self._positions = positions
        self._payments = payments
        self._exchange = exchange
        self._event = record_event

    @property
    def store(self) -> PositionManager:
        return self._positions

    # ---------------------------------------------------------------- venues

    def venue_positions(self, venues: Iterable[str]) -> dict[str, VenueSnapshot]:
        snapshots: dict[str, VenueSnapshot] = {}
        for venue in sorted(set(venues)):
            try:
                held = {p.symbol: p for p in self._exchange(venue).positions() if p.qty != 0}
                snapshots[venue] = VenueSnapshot(venue, held)
            except ExchangeError as exc:
                snapshots[venue] = VenueSnapshot(venue, {}, f"{type(exc).__name__}: {exc}")
        return snapshots

    def leg_states(
        self, position: PositionRecord, snapshots: Mapping[str, VenueSnapshot]
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

    @staticmethod
    def hedge_mismatch(position: PositionRecord, legs: Mapping[Leg, LegState]) -> str | None:
        """None when both venues hold exactly the position's legs, else what differs."""
        problems = []
        for leg, expected in ((Leg.LONG, position.long_qty), (Leg.SHORT, position.short_qty)):
            state = legs[leg]
            if state.held != expected:
                problems.append(
                    f"{leg.label} leg: {state.venue} holds {state.qty} {position.symbol}, "
                    f"position expects {expected * leg.sign}"
                )
        return "; ".join(problems) or None

    # ---------------------------------------------------------------- funding

    @staticmethod
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

    def venue_funding(self, positions: Sequence[PositionRecord]) -> FundingPass:
        """One funding-history call per venue for the whole pass (never one per leg), from
        the oldest time any of `positions` still needs there."""
        summaries = {p.id: self._payments.summary(p.id) for p in positions}
        oldest: dict[str, datetime] = {}
        for position in positions:
            for venue, since in self._funding_since(position, summaries[position.id]).items():
                oldest[venue] = min(since, oldest.get(venue, since))
        fetched: dict[str, VenueFunding] = {}
        for venue in sorted(oldest):
            client = self._exchange(venue)
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

    def sync_funding(
        self,
        position: PositionRecord,
        persist: bool = True,
        prefetched: FundingPass | None = None,
    ) -> tuple[PositionRecord, list[FundingPaymentRecord], list[str]]:
        """Record new funding payments of both legs; returns the position (with the new
        totals; saved unless `persist` is False, for a caller that saves them itself), the
        new payments and the legs whose venue cannot report funding (or failed to).

        `prefetched` (from `venue_funding`) avoids asking each venue again per position."""
        batch = prefetched
        if batch is None or position.id not in batch.summaries:
            batch = self.venue_funding([position])
        summary = batch.summaries[position.id]
        since_by_venue = self._funding_since(position, summary)
        fetched = batch.venues
        new: list[FundingPaymentRecord] = []
        missing: list[str] = []
        for leg in Leg:
            venue = leg_venue(position, leg)
            funding = fetched.get(venue)
            if funding is None or funding.error is not None:
                reason = funding.error if funding is not None else "not fetched"
                missing.append(f"{venue}: {reason}")
                continue
            since = since_by_venue[venue]
            paid = [p for p in funding.by_symbol.get(position.symbol, []) if p.funding_time > since]
            new += self._payments.record(
                [
                    FundingPaymentRecord(
                        position_id=position.id,
                        strategy_name=self._strategy,
                        venue=venue,
                        symbol=position.symbol,
                        funding_time=p.funding_time,
                        rate=p.rate,
                        position_qty=p.position_qty,
                        mark_price=p.mark_price,
                        amount_usd=p.amount,
                    )
                    for p in paid
                ]
            )
        totals = {venue: s.total_usd for venue, s in summary.items()}
        for payment in new:
            totals[payment.venue] = totals.get(payment.venue, ZERO) + payment.amount_usd
        long_total = totals.get(leg_venue(position, Leg.LONG), ZERO)
        short_total = totals.get(leg_venue(position, Leg.SHORT), ZERO)
        if (long_total, short_total) != (position.long_funding_usd, position.short_funding_usd):
            if persist:
                position = self._positions.update(
                    position.id,
                    PositionUpdate(long_funding_usd=long_total, short_funding_usd=short_total),
                )
            else:
                position = replace(
                    position, long_funding_usd=long_total, short_funding_usd=short_total
                )
        if new:
            self._event(
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
        return position, new, missing

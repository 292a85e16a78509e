"""The monitor phase's decisions, as pure code over a `MonitorSnapshot`.

Before anything else, every unfinished position is to be resumed (`Resume`). Then, per open
position: a venue that could not be read skips it (`PhaseSkipped`); venues that no longer
hold what it says make it a `Repair`; otherwise a `Refresh` writes the funding settled on
both legs since the last payment stored, the divergence now and the unrealized PnL.

Reconciliation against the venues (`reconcile`, run first by every phase that trades)
looks both ways: a position's leg that the venue holds more of, less of or none of is a
`Repair` (traded to what both legs hold, reduce-only), and a venue position no active
position has a leg in is a `ForeignPosition` (the strategy is halted).
"""

from __future__ import annotations

from collections.abc import Sequence

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import (
    ForeignPosition,
    Refresh,
    Repair,
    Resume,
)
from strategies.implementations.funding_arbitrage.models import PhaseSkipped
from strategies.implementations.funding_arbitrage.position_manager import (
    hedge_mismatch,
    leg_states,
    new_payments,
    venues_down,
)
from strategies.implementations.funding_arbitrage.snapshots import MonitorSnapshot, VenueCheck

MonitorDecision = Refresh | Repair | PhaseSkipped
ReconcileDecision = Repair | ForeignPosition | PhaseSkipped


def resumes(unfinished: Sequence[PositionRecord]) -> list[Resume]:
    """Every OPENING / CLOSING / NEEDS_RECONCILE position is carried on first (crash-only:
    start-up and recovery are one path)."""
    return [Resume(position) for position in unfinished]


def decide(snapshot: MonitorSnapshot) -> list[MonitorDecision]:
    decisions: list[MonitorDecision] = []
    for position in snapshot.positions:
        down = venues_down(position, snapshot.venues)
        if down:
            decisions.append(PhaseSkipped("monitor", f"{position.id}: {'; '.join(down)}"))
            continue
        legs = leg_states(position, snapshot.venues)
        mismatch = hedge_mismatch(position, legs)
        if mismatch is not None:
            decisions.append(Repair(position, mismatch))
            continue
        payments, missing = new_payments(position, snapshot.funding)
        decisions.append(
            Refresh(
                position=position,
                legs=legs,
                payments=tuple(payments),
                stored=snapshot.funding.summaries[position.id],
                divergence_hourly=snapshot.divergence[position.id],
                missing_funding=tuple(missing),
            )
        )
    return decisions


def reconcile(check: VenueCheck) -> list[ReconcileDecision]:
    """Every difference between the strategy's open positions and its venue accounts, in
    both directions; a venue that could not be read is a `PhaseSkipped` naming it (what it
    holds is unknown, so nothing may be opened on it)."""
    decisions: list[ReconcileDecision] = [
        PhaseSkipped("reconcile", f"{venue}: {snapshot.error}")
        for venue, snapshot in sorted(check.venues.items())
        if snapshot.error
    ]
    for position in check.open_positions:
        if venues_down(position, check.venues):
            continue
        mismatch = hedge_mismatch(position, leg_states(position, check.venues))
        if mismatch is not None:
            decisions.append(Repair(position, mismatch))
    decisions += foreign_positions(check)
    return decisions


def foreign_positions(check: VenueCheck) -> list[ForeignPosition]:
    """Venue positions (above dust) on a (venue, symbol) no active position has a leg in."""
    in_use = {(venue, p.symbol) for p in check.active for venue in _legs(p)}
    found = []
    for venue, snapshot in sorted(check.venues.items()):
        for symbol, held in sorted(snapshot.positions.items()):
            if (venue, symbol) in in_use or abs(held.qty) < check.dust.get((venue, symbol), 0):
                continue
            found.append(ForeignPosition(venue, symbol, held.qty))
    return found


def _legs(position: PositionRecord) -> tuple[str, ...]:
    return tuple(v for v in (position.long_dex, position.short_dex) if v is not None)

"""The monitor phase's decisions, as pure code over a `MonitorSnapshot`.

Before anything else, every unfinished position is to be resumed (`Resume`). Then, per open
position: a venue that could not be read skips it (`PhaseSkipped`); venues that no longer
hold what it says make it a `Repair`; otherwise a `Refresh` writes the funding settled on
both legs since the last payment stored, the divergence now and the unrealized PnL.
"""

from __future__ import annotations

from collections.abc import Sequence

from strategies.components.base_components import PositionRecord
from strategies.implementations.funding_arbitrage.decisions import Refresh, Repair, Resume
from strategies.implementations.funding_arbitrage.models import PhaseSkipped
from strategies.implementations.funding_arbitrage.position_manager import (
    hedge_mismatch,
    leg_states,
    new_payments,
    venues_down,
)
from strategies.implementations.funding_arbitrage.snapshots import MonitorSnapshot

MonitorDecision = Refresh | Repair | PhaseSkipped


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

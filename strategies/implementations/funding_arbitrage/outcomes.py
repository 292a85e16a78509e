"""What each phase returns: a typed union of outcomes per phase.

The outcome types themselves are in `models.py` (`ExecutionReport`, `PositionMonitored`,
`PhaseSkipped`, `TransferNeed`, `TransferNotStarted`) and `decisions.py` (`OpenRefused`);
`RebalanceOutcome` pairs a policy's decision with what carrying it out did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from strategies.base_strategy import HaltRequested
from strategies.components.transfer_types import (
    TransferRequestResult,
)
from strategies.implementations.funding_arbitrage.decisions import OpenRefused, RebalanceDecision
from strategies.implementations.funding_arbitrage.models import (
    ExecutionReport,
    PhaseSkipped,
    PositionMonitored,
    TransferNeed,
    TransferNotStarted,
)


@dataclass(frozen=True, slots=True)
class RebalanceOutcome:
    position_id: uuid.UUID
    decision: RebalanceDecision
    done: str  # what was carried out
    reports: tuple[ExecutionReport, ...] = ()


ReconcileOutcome = ExecutionReport | PhaseSkipped
# What repairing first (before a phase trades) did: resumed or repaired positions, venues
# that could not be read, halts asked for.
ProtectOutcome = ExecutionReport | PhaseSkipped | HaltRequested
MonitorOutcome = ExecutionReport | PositionMonitored | PhaseSkipped | HaltRequested
RebalancePhaseOutcome = RebalanceOutcome | ExecutionReport | PhaseSkipped | HaltRequested
OpenOutcome = ExecutionReport | OpenRefused | PhaseSkipped | HaltRequested
TransferOutcome = TransferRequestResult | TransferNotStarted | PhaseSkipped | TransferNeed
CloseOutcome = ExecutionReport | PhaseSkipped

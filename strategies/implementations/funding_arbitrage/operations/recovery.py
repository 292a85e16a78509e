"""Driving an unfinished position to a safe end after a crash, a timeout or a surprise.

Crash-only: start-up and recovery are one path. A position found OPENING, CLOSING or
NEEDS_RECONCILE is resumed with the client ids its operation already journaled (so nothing
is ever sent twice), and its legs are compared with what the venues hold:

- OPENING: if it is younger than `execution.max_leg_skew_seconds`, the open is finished
  (unsent legs are sent); older, unsent legs are abandoned and whatever filled is made equal
  (unwound when only one leg filled: FAILED).
- CLOSING: the close is carried on (reduce-only orders to zero).
- NEEDS_RECONCILE (or OPEN with legs that no longer match the venues): every order still
  in doubt is looked up; if one stays unknown, the position waits for the next pass.
  Otherwise a position that was closing (`operation` CLOSE) is closed with the reason its
  close was started for, and any other is brought to the size both legs hold: OPEN again,
  or flat (FAILED if it never opened, else CLOSED).

Position level, like `hedged_execution.py`, which it drives; it also follows single orders
through `leg_orders.py`. Neither of those calls back into it.
"""

from __future__ import annotations

from datetime import timedelta

from core.clock import Clock
from core.enums import PositionOperation, PositionStatus
from strategies.components.base_components import OrderRecord, PositionManager, PositionRecord
from strategies.implementations.funding_arbitrage.config import ExecutionConfig
from strategies.implementations.funding_arbitrage.models import ExecutionReport, Leg
from strategies.implementations.funding_arbitrage.operations.hedged_execution import (
    HedgedPositions,
    Legs,
)
from strategies.implementations.funding_arbitrage.operations.leg_orders import (
    LegOrders,
    client_order_id,
    is_unresolved,
)


class PositionRecovery:
    def __init__(
        self,
        hedged: HedgedPositions,
        legs: LegOrders,
        positions: PositionManager,
        clock: Clock,
        config: ExecutionConfig,
    ) -> None:
        self._hedged = hedged
        self._legs = legs
        self._positions = positions
        self._clock = clock
        self._config = config

    def resume(self, position: PositionRecord, legs: Legs, why: str = "") -> ExecutionReport:
        """Carry an unfinished position on; `why` explains a mismatch found on an OPEN one."""
        if position.status is PositionStatus.OPENING:
            return self._resume_open(position, legs)
        if position.status is PositionStatus.CLOSING:
            return self._hedged.close(position, legs, _operation_reason(position))
        if position.status is PositionStatus.OPEN:
            position = self._positions.mark_status(
                position.id, PositionStatus.NEEDS_RECONCILE, f"monitor: {why}"
            )
        if position.status is PositionStatus.NEEDS_RECONCILE:
            return self._reconcile(position, legs)
        return ExecutionReport(
            position.id, PositionOperation.RECONCILE, position.status, "nothing to do"
        )

    # ---------------------------------------------------------------- opening

    def _resume_open(self, position: PositionRecord, legs: Legs) -> ExecutionReport:
        found: dict[Leg, OrderRecord] = {}
        for leg, spec in legs.items():
            record = self._legs.record(client_order_id(position.id, spec.leg, "open"))
            if record is not None:
                found[leg] = record
        if not found:
            position = self._positions.mark_status(
                position.id, PositionStatus.FAILED, "stopped before any order was sent"
            )
            return ExecutionReport(
                position.id, PositionOperation.RECONCILE, position.status, "no order was sent"
            )
        age = self._clock.now() - position.created_at
        fresh = age <= timedelta(seconds=self._config.max_leg_skew_seconds)
        if fresh:
            # Both intents have the same quantity: a leg not journaled yet gets it too.
            qty = next(iter(found.values())).intent.quantity
            deadline = self._clock.monotonic() + self._config.max_leg_skew_seconds
            records = self._hedged.send_open_legs(position, legs, qty, deadline)
        else:
            deadline = self._clock.monotonic() + self._config.unwind_timeout_seconds
            records = [
                self._legs.settle(self._legs.abandon_unsent(record), deadline)
                for record in found.values()
            ]
        return self._hedged.complete_open(position, legs, records)

    # ---------------------------------------------------------------- in doubt

    def _reconcile(self, position: PositionRecord, legs: Legs) -> ExecutionReport:
        deadline = self._clock.monotonic() + self._config.unwind_timeout_seconds
        doubtful = []
        for record in self._legs.records(position.id):
            if record.is_terminal:
                continue
            record = self._legs.settle(self._legs.abandon_unsent(record), deadline)
            if is_unresolved(record):
                doubtful.append(f"{record.client_order_id} ({record.status})")
        if doubtful:
            detail = f"still unknown: {', '.join(doubtful)}"
            return ExecutionReport(
                position.id, PositionOperation.RECONCILE, position.status, detail
            )
        if position.operation is PositionOperation.CLOSE:
            return self._hedged.close(position, legs, _operation_reason(position))
        return self._hedged.equalize(
            position, legs, PositionOperation.RECONCILE, _operation_reason(position)
        )


def _operation_reason(position: PositionRecord) -> str:
    """Why the interrupted operation was started (a close carries on with its reason)."""
    return position.operation_reason or f"resumed from {position.status}"

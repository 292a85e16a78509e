"""Hedged open, close and reduce of a two-leg position: the position level of execution.

It works on whole positions and calls downward only: one leg's orders go through
`leg_orders.LegOrders`, both legs run through the injected `LegRunner` (two threads in
live and paper trading, one after the other under a simulated clock), funding is settled
through the `FundingLedger` before a position is finished, and every change is recorded on
the position and in the strategy's audit trail.

The worst outcome of funding arbitrage is one filled leg: price exposure the strategy never
meant to take. The rules here:

1. The position row exists (OPENING / CLOSING) before any order; both opening intents are
   journaled before either is sent, with client ids derived from the position, leg and
   purpose, so a retry or a restarted process finds them and never sends a second order.
2. Both legs are sent at once. Transient errors are retried for at most
   `execution.max_leg_skew_seconds`; an unknown outcome is looked up by client id.
3. Then the legs are made equal: whatever one leg holds beyond the other is removed with
   reduce-only market orders, retried for at most `execution.unwind_timeout_seconds`. Both
   filled: OPEN. Only one filled: it is unwound and the position is FAILED with the reason.
   Partial fills: the bigger leg is trimmed to the smaller one.
4. A leg whose outcome stays unknown, or a leg that cannot be brought to size in time,
   leaves the position NEEDS_RECONCILE; `resume` (run by reconcile on every monitor) picks
   it up with the same client ids until it reaches a safe end.
5. Closing is the same with reduce-only orders to zero; realized PnL is computed from the
   fills, fees and the funding the venues paid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar

from core.clock import Clock
from core.enums import OrderType, PositionOperation, PositionStatus
from core.money import quantize_down
from exchanges.base import ExchangeError
from strategies.components.base_components import (
    OrderIntent,
    OrderRecord,
    PositionManager,
    PositionRecord,
    PositionUpdate,
    StrategyAudit,
)
from strategies.components.concurrency import LegRunner
from strategies.implementations.funding_arbitrage.config import ExecutionConfig
from strategies.implementations.funding_arbitrage.models import (
    ExecutionReport,
    Leg,
    LegSpec,
    qty_text,
)
from strategies.implementations.funding_arbitrage.operations.accounting import (
    describe_failures,
    fills_vwap,
    journal_held,
    realized_trading_pnl,
    total_fees,
)
from strategies.implementations.funding_arbitrage.operations.leg_orders import (
    LegOrders,
    LegResult,
    client_order_id,
    is_unresolved,
)
from strategies.implementations.funding_arbitrage.position_manager import FundingLedger

logger = logging.getLogger(__name__)

T = TypeVar("T")
Legs = Mapping[Leg, LegSpec]


class HedgedPositions:
    """Carries out hedged operations on positions of one strategy."""

    def __init__(
        self,
        legs: LegOrders,
        runner: LegRunner,
        positions: PositionManager,
        funding: FundingLedger,
        audit: StrategyAudit,
        execution: ExecutionConfig,
        clock: Clock,
    ) -> None:
        self._legs = legs
        self._runner = runner
        self._positions = positions
        self._funding = funding
        self._audit = audit
        self._execution = execution
        self._clock = clock

    # ---------------------------------------------------------------- open

    def open(self, position: PositionRecord, legs: Legs, qty: Decimal) -> ExecutionReport:
        """Open both legs of an OPENING position for `qty` each."""
        deadline = self._clock.monotonic() + self._execution.max_leg_skew_seconds
        records = self.send_open_legs(position, legs, qty, deadline)
        return self.complete_open(position, legs, records)

    def send_open_legs(
        self, position: PositionRecord, legs: Legs, qty: Decimal, deadline: float
    ) -> list[OrderRecord]:
        """Journal both opening intents, then send both (each at most once) through the runner."""
        intents = {leg: self._open_intent(position, spec, qty) for leg, spec in legs.items()}
        for intent in intents.values():  # both journaled before either is sent
            self._legs.journal_intent(intent)
        records = self._both(legs, lambda spec: self._legs.place(intents[spec.leg], deadline))
        return list(records.values())

    def _open_intent(self, position: PositionRecord, spec: LegSpec, qty: Decimal) -> OrderIntent:
        return OrderIntent(
            client_order_id=client_order_id(position.id, spec.leg, "open"),
            strategy_name=position.strategy_name,
            venue=spec.venue,
            symbol=spec.symbol,
            side=spec.leg.opening_side,
            order_type=OrderType.MARKET,
            quantity=qty,
            purpose="open",
            position_id=position.id,
        )

    def complete_open(
        self, position: PositionRecord, legs: Legs, records: Sequence[OrderRecord]
    ) -> ExecutionReport:
        """After the opening orders were sent: NEEDS_RECONCILE if an outcome is unknown,
        otherwise make the legs equal (OPEN, or FAILED with the reason)."""
        # An intent still unsent (transient errors until the deadline) is abandoned for good.
        records = [self._legs.abandon_unsent(r) for r in records]
        orders = tuple(r.client_order_id for r in records)
        unknown = [r for r in records if is_unresolved(r)]
        if unknown:
            names = ", ".join(f"{r.client_order_id} ({r.status})" for r in unknown)
            return self.needs_reconcile(
                position, PositionOperation.OPEN, f"outcome unknown: {names}", orders
            )
        sent = {r.intent.venue for r in records}
        missing = [f"no {s.leg.label} order was sent" for s in legs.values() if s.venue not in sent]
        why = "; ".join([*missing, describe_failures(records)]).strip("; ")
        return self.equalize(position, legs, PositionOperation.OPEN, why, orders)

    def equalize(
        self,
        position: PositionRecord,
        legs: Legs,
        operation: PositionOperation,
        why_unequal: str,
        orders: tuple[str, ...] = (),
    ) -> ExecutionReport:
        """Bring both legs to the size both hold; OPEN, FAILED or CLOSED accordingly."""
        try:
            held = self._both(legs, lambda spec: self._legs.held(position.id, spec))
        except ExchangeError as exc:
            return self.needs_reconcile(position, operation, f"venue unavailable: {exc}", orders)
        target = min(amount for amount, _ in held.values())
        if target < max(spec.min_qty for spec in legs.values()):
            target = Decimal(0)
        deadline = self._clock.monotonic() + self._execution.unwind_timeout_seconds
        results = self._both(
            legs,
            lambda spec: self._legs.converge(position.id, spec, target, "unwind", deadline),
        )
        orders += tuple(o for r in results.values() for o in r.orders)
        notes = "; ".join(note for _, note in held.values() if note)
        failed = [r for r in results.values() if not r.ok]
        if failed or self._unequal(results, legs):
            detail = self._leg_details(results.values())
            return self.needs_reconcile(
                position, operation, f"legs not equal after {operation}: {detail}", orders
            )
        if target == 0:
            reason = f"{why_unequal or 'no leg is held'}; legs flat" + (
                f" ({notes})" if notes else ""
            )
            return self._finish_flat(position, legs, operation, reason, orders)
        return self._mark_open(position, legs, results, operation, orders, notes)

    def _mark_open(
        self,
        position: PositionRecord,
        legs: Legs,
        results: Mapping[Leg, LegResult],
        operation: PositionOperation,
        orders: tuple[str, ...],
        notes: str,
        close_failed: bool = False,
    ) -> ExecutionReport:
        records = self._legs.records(position.id)
        qty = min(results[Leg.LONG].held, results[Leg.SHORT].held)
        long_price = fills_vwap(records, legs[Leg.LONG])
        short_price = fills_vwap(records, legs[Leg.SHORT])
        prices = [p for p in (long_price, short_price) if p is not None]
        size = qty * sum(prices, Decimal(0)) / len(prices) if prices else position.size_usd
        position = self._positions.update(
            position.id,
            PositionUpdate(
                size_usd=size,
                long_qty=results[Leg.LONG].held,
                short_qty=results[Leg.SHORT].held,
                long_entry_price=long_price,
                short_entry_price=short_price,
                fees_usd=total_fees(records),
                close_failed_at=self._clock.now() if close_failed else None,
            ),
        )
        position = self._positions.mark_status(position.id, PositionStatus.OPEN, notes or None)
        detail = f"hedged {qty_text(qty)} {position.symbol} on both legs" + (
            f" ({notes})" if notes else ""
        )
        self._audit.position("position.hedged", position.id, {"operation": operation, "qty": qty})
        return ExecutionReport(position.id, operation, position.status, detail, qty, qty, orders)

    # ---------------------------------------------------------------- close and reduce

    def close(self, position: PositionRecord, legs: Legs, reason: str) -> ExecutionReport:
        """Close both legs with reduce-only orders; CLOSED with realized PnL when flat."""
        position = self._positions.mark_status(position.id, PositionStatus.CLOSING, reason)
        deadline = self._clock.monotonic() + self._execution.unwind_timeout_seconds
        results = self._both(
            legs,
            lambda spec: self._legs.converge(position.id, spec, Decimal(0), "close", deadline),
        )
        orders = tuple(o for r in results.values() for o in r.orders)
        if all(r.ok and r.held < legs[r.leg].min_qty for r in results.values()):
            return self._finish_flat(position, legs, PositionOperation.CLOSE, reason, orders)
        if not any(r.unknown for r in results.values()) and self._unequal(results, legs):
            # One leg closed, the other could not be: a naked leg is worse than a failed
            # close, so the closed side is bought back to the size the other still holds.
            bigger = max(r.held for r in results.values())
            deadline = self._clock.monotonic() + self._execution.unwind_timeout_seconds
            results = self._both(
                legs,
                lambda spec: self._legs.converge(
                    position.id, spec, bigger, "rehedge", deadline, grow=True
                ),
            )
            orders += tuple(o for r in results.values() for o in r.orders)
        if any(r.unknown for r in results.values()) or self._unequal(results, legs):
            detail = f"close incomplete: {self._leg_details(results.values())}"
            return self.needs_reconcile(position, PositionOperation.CLOSE, detail, orders)
        detail = f"close failed, legs still hedged: {self._leg_details(results.values())}"
        self._audit.position(
            "position.close_failed", position.id, {"reason": reason, "detail": detail}
        )
        return self._mark_open(
            position, legs, results, PositionOperation.CLOSE, orders, detail, close_failed=True
        )

    @staticmethod
    def _unequal(results: Mapping[Leg, LegResult], legs: Legs) -> bool:
        """Legs differ by a tradable amount (less than a minimum order cannot be evened)."""
        tolerance = max(spec.min_qty for spec in legs.values())
        return abs(results[Leg.LONG].held - results[Leg.SHORT].held) >= tolerance

    def reduce(
        self, position: PositionRecord, legs: Legs, fraction: Decimal, reason: str
    ) -> ExecutionReport:
        """Take `fraction` off both legs; the position stays OPEN with the smaller size."""
        step = max(spec.qty_step for spec in legs.values())
        minimum = max(spec.min_qty for spec in legs.values())
        held = min(position.long_qty, position.short_qty)
        target = quantize_down(held * (1 - fraction), step)
        if target < minimum:
            return self.close(position, legs, f"{reason} (reduce leaves less than the minimum)")
        if held - target < minimum:
            detail = f"reduce by {fraction} of {held} is below the minimum order size {minimum}"
            return ExecutionReport(
                position.id, PositionOperation.REDUCE, position.status, detail, held, held
            )
        deadline = self._clock.monotonic() + self._execution.unwind_timeout_seconds
        results = self._both(
            legs,
            lambda spec: self._legs.converge(position.id, spec, target, "reduce", deadline),
        )
        orders = tuple(o for r in results.values() for o in r.orders)
        if any(not r.ok for r in results.values()) or any(
            r.held != target for r in results.values()
        ):
            detail = f"reduce incomplete: {self._leg_details(results.values())}"
            return self.needs_reconcile(position, PositionOperation.REDUCE, detail, orders)
        records = self._legs.records(position.id)
        ratio = target / held
        position = self._positions.update(
            position.id,
            PositionUpdate(
                long_qty=target,
                short_qty=target,
                size_usd=position.size_usd * ratio,
                fees_usd=total_fees(records),
            ),
        )
        self._audit.position("position.reduced", position.id, {"reason": reason, "qty": target})
        detail = f"reduced from {held} to {target}: {reason}"
        return ExecutionReport(
            position.id, PositionOperation.REDUCE, position.status, detail, target, target, orders
        )

    # ---------------------------------------------------------------- endings

    def _finish_flat(
        self,
        position: PositionRecord,
        legs: Legs,
        operation: PositionOperation,
        reason: str,
        orders: tuple[str, ...],
    ) -> ExecutionReport:
        """Both legs are flat: FAILED if the position never opened, else CLOSED with PnL."""
        position = self._funding.settle(position)
        records = self._legs.records(position.id)
        fees = total_fees(records)
        position = self._positions.update(
            position.id, PositionUpdate(long_qty=Decimal(0), short_qty=Decimal(0), fees_usd=fees)
        )
        trading = realized_trading_pnl(records)
        # A leg our fills say is still held was closed by the venue (liquidation, ADL): its
        # exit is not in our journal, so it is valued at the mark now and said so.
        for spec in legs.values():
            left = journal_held(records, spec)
            if left != 0:
                mark = self._legs.mark(spec)
                trading += left * spec.leg.sign * (mark or Decimal(0))
                reason += (
                    f"; {spec.leg.label} leg ({qty_text(left)}) was closed outside perpbot, "
                    f"valued at the mark {mark}"
                )
        realized = trading - fees + position.funding_usd
        never_opened = position.opened_at is None and position.status in (
            PositionStatus.OPENING,
            PositionStatus.NEEDS_RECONCILE,
        )
        payload = {
            "trading_pnl_usd": trading,
            "fees_usd": fees,
            "funding_usd": position.funding_usd,
        }
        if never_opened:
            position = self._positions.mark_status(position.id, PositionStatus.FAILED, reason)
            self._audit.position("position.unwound", position.id, {**payload, "loss_usd": realized})
        else:
            position = self._positions.close(position.id, reason, realized)
            self._audit.position(
                "position.settled", position.id, {**payload, "realized_pnl_usd": realized}
            )
        return ExecutionReport(position.id, operation, position.status, reason, orders=orders)

    def needs_reconcile(
        self,
        position: PositionRecord,
        operation: PositionOperation,
        detail: str,
        orders: tuple[str, ...],
    ) -> ExecutionReport:
        logger.warning(
            "position %s needs reconciliation after %s: %s", position.id, operation, detail
        )
        position = self._positions.mark_status(
            position.id,
            PositionStatus.NEEDS_RECONCILE,
            f"{operation}: {detail}",
            operation=operation,
        )
        return ExecutionReport(position.id, operation, position.status, detail, orders=orders)

    # ---------------------------------------------------------------- helpers

    def _both(self, legs: Legs, work: Callable[[LegSpec], T]) -> dict[Leg, T]:
        """Run `work` for both legs through the runner (each leg is its own venue)."""
        return self._runner.run({leg: _bind(work, spec) for leg, spec in legs.items()})

    @staticmethod
    def _leg_details(results: Iterable[LegResult]) -> str:
        return "; ".join(
            f"{r.leg.label} holds {qty_text(r.held)}" + (f" ({r.detail})" if r.detail else "")
            for r in results
        )


def _bind(work: Callable[[LegSpec], T], spec: LegSpec) -> Callable[[], T]:
    return lambda: work(spec)
